import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { Plugin } from '@envelop/core';
import { RequestCache } from '@pothos/plugin-scope-auth';
import { getOperationAST, OperationTypeNode, visit, type DocumentNode } from 'graphql';
import { AppError } from '../errors.ts';
import { toGraphQLError } from './graphql-error.ts';
import type { GraphQLContext } from '../schema/context.ts';
import type { Services } from '../services.ts';
import { createRateLimiter } from './rate-limiter.ts';
import type { TokenWatch } from '../auth/token-watch.ts';
import { untilTokenEnds } from '../realtime/until-token-ends.ts';
import { operationArgs } from './operation-args.ts';
import type { Principal } from '../auth/tokens.ts';

/**
 * A subscription's result that ends itself (a WebSocket operation's SocketMember, which writes its
 * group's results to its socket): given its token and what its end releases, it ends when the
 * token does and releases its slot when it ends, and needs none of envelop's iterator wrappers.
 */
export interface EndsItself {
  endWith(principal: Principal, tokens: TokenWatch, onEnd: () => void): void;
}

const endsItself = (x: unknown): x is EndsItself => typeof (x as Partial<EndsItself>).endWith === 'function';

/**
 * Limits on a request's shape, checked before it runs (graphql-armor). Error code: QUERY_TOO_COMPLEX.
 * What a request may cost is bounded by response-limits.ts instead of armor's cost estimate (which
 * ignores `first` given as a variable and what a field weighs): worst-case rows before it runs, and
 * the bytes of large fields as their sizes are known.
 */
export const QUERY_LIMITS = { maxDepth: 12, maxAliases: 20, maxTokens: 3000, maxDirectives: 20 } as const;

/** The errors graphql-armor refused a document with (its limits: depth, aliases, tokens, directives), known by identity. */
const queryLimitRejections = new WeakSet();
export const isQueryLimitRejection = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && queryLimitRejections.has(error);
const onReject = [(_ctx: unknown, error: object) => void queryLimitRejections.add(error)];

export function armorPlugin(production: boolean) {
  return EnvelopArmorPlugin({
    maxDepth: { n: QUERY_LIMITS.maxDepth, ignoreIntrospection: true, flattenFragments: true, onReject },
    maxAliases: { n: QUERY_LIMITS.maxAliases, onReject },
    maxTokens: { n: QUERY_LIMITS.maxTokens, onReject },
    costLimit: { enabled: false },
    maxDirectives: { n: QUERY_LIMITS.maxDirectives, onReject },
    // "Did you mean …?" helps people in GraphiQL; in production it would map the schema for strangers.
    blockFieldSuggestion: { enabled: production },
  });
}

/** What the guard needs to know of a document, found in one walk and kept (Yoga reuses parsed documents). */
const documentFacts = new WeakMap<DocumentNode, { nulLiteral: boolean; asksForSchema: boolean }>();
function factsOf(document: DocumentNode) {
  let facts = documentFacts.get(document);
  if (!facts) {
    const found = { nulLiteral: false, asksForSchema: false };
    visit(document, {
      StringValue(node) {
        if (node.value.includes('\u0000')) found.nulLiteral = true;
      },
      Field(node) {
        if (node.name.value === '__schema' || node.name.value === '__type') found.asksForSchema = true;
      },
    });
    documentFacts.set(document, (facts = found));
  }
  return facts;
}

/** True when a string anywhere in the variables (walked without recursion) or the document contains NUL. */
function containsNul(document: DocumentNode, variables: unknown): boolean {
  if (factsOf(document).nulLiteral) return true;
  const stack: unknown[] = [variables];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return true;
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\u0000')) return true;
        stack.push(x);
      }
    }
  }
  return false;
}

const NUL_REFUSED = () =>
  toGraphQLError(new AppError('BAD_USER_INPUT', 'Text may not contain the NUL character (\\u0000); PostgreSQL cannot store it.'));

/**
 * Subscriptions end when their token is revoked or expires.
 * Per-token rate limits (RATE_LIMITED with `retryAfterSeconds`): mutations per minute, and open
 * subscriptions at once. In production, introspection needs an API token. Text with NUL is refused
 * up front (PostgreSQL can store it neither in text nor in jsonb).
 */
export function guardPlugin(services: Services, tokens: TokenWatch): Plugin<GraphQLContext> {
  const { production, limits } = services.config;
  const mutations = createRateLimiter(limits.mutationsPerMinute);
  const open = new Map<string, number>();
  const release = (key: string) => {
    const n = (open.get(key) ?? 1) - 1;
    if (n <= 0) open.delete(key);
    else open.set(key, n);
  };
  return {
    onExecute({ args: envelopArgs, setResultAndStopExecution }) {
      const args = operationArgs(envelopArgs);
      const ctx = args.contextValue as GraphQLContext;
      if (containsNul(args.document, args.variableValues)) {
        setResultAndStopExecution({ errors: [NUL_REFUSED()] });
        return;
      }
      if (production && !ctx.principal && factsOf(args.document).asksForSchema) {
        setResultAndStopExecution({
          errors: [toGraphQLError(new AppError('UNAUTHENTICATED', 'Introspection needs an API token (`Authorization: Bearer <token>`).'))],
        });
        return;
      }
      if (ctx.principal && getOperationAST(args.document, args.operationName)?.operation === OperationTypeNode.MUTATION) {
        const taken = mutations.take(ctx.principal.tokenId);
        if (!taken.ok) {
          services.metrics.rateLimited.inc({ kind: 'mutation' });
          setResultAndStopExecution({
            errors: [
              toGraphQLError(
                new AppError(
                  'RATE_LIMITED',
                  `Too many mutations with this token: the limit is ${limits.mutationsPerMinute} per minute. Retry in ${taken.retryAfterSeconds} s.`,
                  {
                    retryAfterSeconds: taken.retryAfterSeconds,
                  },
                ),
              ),
            ],
          });
        }
      }
    },
    onSubscribe({ args: envelopArgs, setResultAndStopExecution }) {
      const args = operationArgs(envelopArgs);
      const ctx = args.contextValue as GraphQLContext;
      if (containsNul(args.document, args.variableValues)) {
        setResultAndStopExecution({ errors: [NUL_REFUSED()] });
        return;
      }
      if (!ctx.principal) return; // the field's auth scope answers UNAUTHENTICATED
      const key = ctx.principal.tokenId;
      if ((open.get(key) ?? 0) >= limits.subscriptionsPerToken) {
        services.metrics.rateLimited.inc({ kind: 'subscription' });
        setResultAndStopExecution({
          errors: [
            toGraphQLError(
              new AppError(
                'RATE_LIMITED',
                `Too many open subscriptions with this token: the limit is ${limits.subscriptionsPerToken} at once. Close one first.`,
                {
                  retryAfterSeconds: 1,
                },
              ),
            ),
          ],
        });
        return;
      }
      open.set(key, (open.get(key) ?? 0) + 1);
      let released = false;
      const once = () => {
        if (released) return;
        released = true;
        release(key);
      };
      const principal = ctx.principal;
      return {
        onSubscribeResult({ result, setResult }) {
          if (!(result && typeof result === 'object' && Symbol.asyncIterator in result)) {
            once();
            return;
          }
          // The open subscription keeps its context as long as it lives, and with it the auth
          // scopes' cache of that context (Pothos' RequestCache: six Maps, ~1.2 KiB per idle
          // subscription). It served the subscribe's checks; an event's execution that needs it
          // builds it again.
          RequestCache.clearForContext(ctx);
          // A revoked or expired token ends its subscriptions (on every process: see TokenWatch).
          if (endsItself(result)) {
            result.endWith(principal, tokens, once);
            return;
          }
          setResult(untilTokenEnds(result as AsyncIterable<never>, principal, tokens));
          return { onEnd: once };
        },
        onSubscribeError: once,
      };
    },
  };
}
