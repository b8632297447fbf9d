import type { Source } from 'graphql';
import type { Plugin } from '@envelop/core';
import type { GraphQLError } from 'graphql';
import { AppError } from '../errors.ts';
import { toGraphQLError } from './graphql-error.ts';

/**
 * How deeply a request may nest brackets in its document (`{`, `[`, `(`) and arrays/objects in its
 * variables. graphql-js parses, and JSON.stringify, Ajv and Prisma walk values, by recursion: a few
 * thousand levels overflowed the stack and answered INTERNAL_SERVER_ERROR (a 2,000-deep list literal,
 * a 5,000-deep `createJob` input). No template schema, job input or query needs more than this.
 */
export const MAX_NESTING = 100;

/** The deepest bracket nesting of a GraphQL document's text, ignoring strings and comments (one pass, no recursion). */
export function documentNesting(source: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '#') {
      while (i < source.length && source[i] !== '\n' && source[i] !== '\r') i++;
    } else if (c === '"') {
      if (source.startsWith('"""', i)) {
        i += 3;
        while (i < source.length && !source.startsWith('"""', i)) i += source.startsWith('\\"""', i) ? 4 : 1;
        i += 2;
      } else {
        i++;
        while (i < source.length && source[i] !== '"' && source[i] !== '\n') i += source[i] === '\\' ? 2 : 1;
      }
    } else if (c === '{' || c === '[' || c === '(') {
      if (++depth > max) max = depth;
    } else if (c === '}' || c === ']' || c === ')') {
      depth--;
    }
  }
  return max;
}

/** The nesting depth of a JSON value (a scalar is 0, `[]` is 1), walked without recursion; stops counting past `limit`. */
export function valueNesting(value: unknown, limit = Infinity): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > max) max = depth + 1;
    if (max > limit) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return max;
}

const deepVariables = (max: number) =>
  toGraphQLError(
    new AppError('BAD_USER_INPUT', `A variable nests arrays or objects more than ${max} levels deep; the limit is ${max}.`, {
      maxNesting: max,
    }),
  );

/**
 * Refuses, before anything recursive touches them, documents nested over `max` brackets
 * (QUERY_TOO_COMPLEX, before parsing) and variables nested over `max` levels (BAD_USER_INPUT,
 * before execution), over HTTP, SSE and WebSocket alike.
 */
export function nestingLimitPlugin(max = MAX_NESTING): Plugin {
  // The same check before an operation executes and before a subscription starts.
  const refuseDeepVariables = ({
    args,
    setResultAndStopExecution,
  }: {
    args: { variableValues?: unknown };
    setResultAndStopExecution: (r: { errors: GraphQLError[] }) => void;
  }) => {
    if (valueNesting(args.variableValues, max + 1) > max + 1) setResultAndStopExecution({ errors: [deepVariables(max)] });
  };
  return {
    onParse({ params }) {
      const sent = params.source as string | Source;
      const source = typeof sent === 'string' ? sent : sent.body;
      const depth = documentNesting(source);
      if (depth > max) {
        throw new AppError(
          'QUERY_TOO_COMPLEX',
          `The document nests brackets ${depth} levels deep; the limit is ${max}. Pass deep values as variables, within the same limit.`,
          { maxNesting: max },
        );
      }
    },
    onExecute: refuseDeepVariables,
    onSubscribe: refuseDeepVariables,
  };
}
