import type { Plugin } from 'graphql-yoga';
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
  type ValueNode,
  OperationTypeNode,
} from 'graphql';
import { AppError } from '../errors.ts';
import { toGraphQLError } from './graphql-error.ts';
import { operationArgs } from './operation-args.ts';
import type { GraphQLContext } from '../schema/context.ts';
import { connectionPage, pageSize } from '../schema/page-size.ts';
import { formatBytes, startResponseBudget } from '../schema/response-budget.ts';

/** Rows assumed for a list without `first` (a job's attempts, an attempt's artifacts, a job's reviews). */
export const UNPAGED_LIST_ROWS = 5;

/**
 * The most rows (objects) a request could return: each object field counts once per item of the
 * lists above it, a connection as its `first` or `last` (or default page), other lists as
 * UNPAGED_LIST_ROWS. Also refuses a `first` or `last` above its maximum (BAD_USER_INPUT).
 */
export function worstCaseRows(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
): number {
  const operation = getOperationAST(document, operationName);
  if (!operation) return 0;
  const root =
    operation.operation === OperationTypeNode.QUERY
      ? schema.getQueryType()
      : operation.operation === OperationTypeNode.MUTATION
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  if (!root) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);

  const argOf = (
    field: GraphQLField<unknown, unknown>,
    args: readonly { name: { value: string }; value: ValueNode }[],
    name: 'first' | 'last',
  ): number | undefined => {
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
        const page = connectionPage(named.name);
        factor =
          last === undefined
            ? pageSize(sel.name.value, first, page)
            : Math.max(pageSize(sel.name.value, last, page, 'last'), first === undefined ? 0 : pageSize(sel.name.value, first, page));
      } else if (isListType(getNullableType(field.type)) && !type.name.endsWith('Connection')) factor = UNPAGED_LIST_ROWS;
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
 * and nothing else: the partial result is dropped. The operations of a batch share one request's
 * limits equally.
 */
export function responseLimitsPlugin(limits: { maxRowsPerRequest: number; maxResponseBytes: number }): Plugin<GraphQLContext> {
  // Operations per HTTP request: a batch (a JSON array, up to 10) shares the request's limits, each
  // operation getting an equal part, so ten operations cannot return ten times the limit (before:
  // 10 × 15.7 MB in one VIEWER request took the server from 461 to 1,300 MiB).
  const batchSize = new WeakMap<object, number>();
  return {
    onRequestParse({ request }) {
      return {
        onRequestParseDone({ requestParserResult }) {
          if (Array.isArray(requestParserResult) && requestParserResult.length > 1) batchSize.set(request, requestParserResult.length);
        },
      };
    },
    onExecute({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue as GraphQLContext;
      const request = (ctx as { request?: object }).request;
      const share = (request && batchSize.get(request)) || 1;
      const maxRows = Math.floor(limits.maxRowsPerRequest / share);
      const maxBytes = Math.floor(limits.maxResponseBytes / share);
      const perRequest =
        share > 1
          ? ` (this operation's part of the request's ${limits.maxRowsPerRequest}, shared by the ${share} operations of its batch)`
          : ' per request';
      let rows: number;
      try {
        const { schema, document, operationName, variableValues } = operationArgs(args);
        rows = worstCaseRows(schema, document, operationName, variableValues);
      } catch (err) {
        if (err instanceof AppError) {
          setResultAndStopExecution({ errors: [toGraphQLError(err)] });
          return;
        }
        throw err;
      }
      if (rows > maxRows) {
        setResultAndStopExecution({
          errors: [
            toGraphQLError(
              new AppError(
                'QUERY_TOO_COMPLEX',
                `This request could return up to ${rows} objects; the limit is ${maxRows}${perRequest} (each connection counts its \`first\`, each list inside counts per item above it). Ask for fewer items or fewer nested lists.`,
                { worstCaseRows: rows, maxRowsPerRequest: limits.maxRowsPerRequest, ...(share > 1 ? { batchSize: share } : {}) },
              ),
            ),
          ],
        });
        return;
      }
      const budget = startResponseBudget(ctx, maxBytes);
      return {
        onExecuteDone({ result, setResult }) {
          if (!budget.refusal || Symbol.asyncIterator in (result as object)) return;
          const refusal =
            share > 1
              ? new AppError(
                  'QUERY_TOO_COMPLEX',
                  `The response would be larger than this operation's part of the limit: ${formatBytes(limits.maxResponseBytes)} per request, shared by the ${share} operations of its batch (large fields such as input, output and event data count by their size). Ask for fewer items or fewer large fields, or send the operations as separate requests.`,
                  { maxResponseBytes: limits.maxResponseBytes, batchSize: share },
                )
              : budget.refusal;
          setResult({ errors: [toGraphQLError(refusal)] });
        },
      };
    },
  };
}
