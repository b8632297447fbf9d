import type { Plugin } from '@envelop/core';
import {
  getNamedType,
  getNullableType,
  getOperationAST,
  isListType,
  isObjectType,
  Kind,
  valueFromAST,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { AppError } from '../errors.ts';
import type { GraphQLContext } from '../schema/context.ts';
import { EVENTS_PAGE, PAGE, pageSize } from '../schema/page-size.ts';
import { startResponseBudget } from '../schema/response-budget.ts';

/** Rows assumed for a list without `first` (a job's attempts, an attempt's artifacts, a job's reviews). */
export const UNPAGED_LIST_ROWS = 5;

/**
 * The most rows (objects) a request could return: each object field counts once per item of the
 * lists above it, a connection as its `first` (or default page), `events` as its `first`, other
 * lists as UNPAGED_LIST_ROWS. Also refuses a `first` or `last` above its maximum (BAD_USER_INPUT).
 */
export function worstCaseRows(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> | null | undefined): number {
  const operation = getOperationAST(document, operationName);
  if (!operation) return 0;
  const root = operation.operation === 'query' ? schema.getQueryType() : operation.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  if (!root) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);

  const argOf = (field: GraphQLField<unknown, unknown>, args: readonly { name: { value: string }; value: any }[], name: 'first' | 'last'): number | undefined => {
    const def = field.args.find((a) => a.name === name);
    if (!def) return undefined;
    const node = args.find((a) => a.name.value === name);
    const value = node ? valueFromAST(node.value, def.type, variables ?? undefined) : def.defaultValue;
    return typeof value === 'number' ? value : undefined;
  };

  const walk = (set: SelectionSetNode, type: GraphQLObjectType, multiplier: number, depth: number): number => {
    if (depth > 64) return 0; // validation has refused deeper documents already
    let rows = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        const t = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : type;
        if (isObjectType(t)) rows += walk(sel.selectionSet, t, multiplier, depth + 1);
        continue;
      }
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const f = fragments.get(sel.name.value);
        const t = f && schema.getType(f.typeCondition.name.value);
        if (f && isObjectType(t)) rows += walk(f.selectionSet, t, multiplier, depth + 1);
        continue;
      }
      const field = type.getFields()[sel.name.value];
      const named = field && getNamedType(field.type);
      if (!field || !isObjectType(named) || !sel.selectionSet) continue;
      let factor = 1;
      const first = argOf(field, sel.arguments ?? [], 'first');
      if (named.name.endsWith('Connection')) {
        const last = argOf(field, sel.arguments ?? [], 'last');
        factor = last === undefined ? pageSize(sel.name.value, first, PAGE) : Math.max(pageSize(sel.name.value, last, PAGE, 'last'), first === undefined ? 0 : pageSize(sel.name.value, first, PAGE));
      }
      else if (field.args.some((a) => a.name === 'first')) factor = pageSize(sel.name.value, first, EVENTS_PAGE);
      else if (isListType(getNullableType(field.type)) && !type.name.endsWith('Connection')) factor = UNPAGED_LIST_ROWS;
      const m = multiplier * factor;
      rows += m + walk(sel.selectionSet, named, m, depth + 1);
    }
    return rows;
  };
  return walk(operation.selectionSet, root, 1, 0);
}

/**
 * Bounds what one query or mutation can make the server hold: its worst-case row count is checked
 * before it runs, and the bytes of its large fields are counted as sizes from PostgreSQL before the
 * values are read (ResponseBudget). Either limit answers QUERY_TOO_COMPLEX with the limit named,
 * and nothing else: the partial result is dropped.
 */
export function responseLimitsPlugin(limits: { maxRowsPerRequest: number; maxResponseBytes: number }): Plugin<GraphQLContext> {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue as GraphQLContext;
      let rows: number;
      try {
        rows = worstCaseRows(args.schema, args.document, args.operationName, args.variableValues as Record<string, unknown> | undefined);
      } catch (err) {
        if (err instanceof AppError) return setResultAndStopExecution({ errors: [err] });
        throw err;
      }
      if (rows > limits.maxRowsPerRequest) {
        return setResultAndStopExecution({
          errors: [
            new AppError(
              'QUERY_TOO_COMPLEX',
              `This request could return up to ${rows} objects; the limit is ${limits.maxRowsPerRequest} per request (each connection counts its \`first\`, each list inside counts per item above it). Ask for fewer items or fewer nested lists.`,
              { worstCaseRows: rows, maxRowsPerRequest: limits.maxRowsPerRequest },
            ),
          ],
        });
      }
      const budget = startResponseBudget(ctx, limits.maxResponseBytes);
      return {
        onExecuteDone({ result, setResult }) {
          if (budget.refusal && !(Symbol.asyncIterator in (result as object))) setResult({ errors: [budget.refusal] });
        },
      };
    },
  };
}
