import { createHash } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import { getOperationAST, getVariableValues, OperationTypeNode, type DocumentNode, type ExecutionResult } from 'graphql';
import type { GraphQLContext } from '../schema/context.ts';
import { compileRead, directiveVariables, type ReadInputs, type ReadPlan } from '../schema/compiled-read.ts';
import { responseBudgetOf } from '../schema/response-budget.ts';
import type { Services } from '../services.ts';
import { operationArgs } from './operation-args.ts';

/**
 * Answers a query in the compiled subset (server/schema/compiled-read.ts) with one SQL statement whose
 * JSON text is sent as it is, instead of executing the document. It runs last among the plugins, so
 * Yoga's parse and validation caches, the armor and nesting limits, the guard, the response limits
 * (rows counted, the budget started) and the metrics have all had their turn; the result goes through
 * their onExecuteDone hooks like any other. Whatever the plan does not answer goes to the general path.
 */
export function compiledReadPlugin(services: Services): Plugin<GraphQLContext> {
  // Per parsed document (Yoga caches them) and operation name + @skip/@include variables' values.
  const plans = new WeakMap<DocumentNode, { directiveVariables: string[]; byKey: Map<string, ReadPlan | null> }>();
  // What the plans kept hold, by their texts' length: a document's variables can choose among 2^20
  // @skip/@include outcomes, each its own plan (~4 KB of heap for compiled-read-hostile.test's page of 14 fields), so plans are
  // kept while both bounds allow; past them, a plan is compiled for its request only.
  let keptChars = 0;
  const released = new FinalizationRegistry<number>((chars) => (keptChars -= chars));
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      if (!services.config.compiledReads) return;
      const { schema, document, operationName, variableValues, contextValue } = operationArgs(args);
      const ctx = contextValue as GraphQLContext;
      // No principal: the auth scope answers UNAUTHENTICATED. Every role may read jobs.
      if (!ctx.principal) return;
      const operation = getOperationAST(document, operationName);
      if (!operation || operation.operation !== OperationTypeNode.QUERY) return;
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variableValues ?? {});
      if (coerced.errors) return;
      const variables = coerced.coerced;
      let perDocument = plans.get(document);
      if (!perDocument) plans.set(document, (perDocument = { directiveVariables: directiveVariables(document), byKey: new Map() }));
      const key = JSON.stringify([operationName ?? null, ...perDocument.directiveVariables.map((v) => variables[v] ?? null)]);
      let plan = perDocument.byKey.get(key);
      if (plan === undefined) {
        plan = compileRead(schema, document, operation, variables);
        const chars = plan?.sql.length ?? 0;
        if (perDocument.byKey.size < MAX_PLANS_PER_DOCUMENT && keptChars + chars <= MAX_KEPT_PLAN_CHARS) {
          perDocument.byKey.set(key, plan);
          keptChars += chars;
          if (chars) released.register(document, chars);
        }
      }
      if (!plan) return;
      const principal = ctx.principal;
      const compiled = plan;
      setExecuteFn(async (executeArgs: Parameters<typeof executeFn>[0]) => {
        const budget = responseBudgetOf(ctx);
        if (budget && !budget.refusal) {
          const inputs: ReadInputs = { variables, projectId: principal.projectId, maxBytes: budget.maxBytes - budget.used - budget.held };
          const data = await answer(services, compiled, inputs);
          if (data !== null) return compiledResult(data);
        }
        return executeFn(executeArgs) as Promise<ExecutionResult> | ExecutionResult;
      });
    },
  };
}

/** Plans kept per document (its operations and @skip/@include outcomes), and the length of all kept plans' texts. */
const MAX_PLANS_PER_DOCUMENT = 8;
const MAX_KEPT_PLAN_CHARS = 16 * 1024 * 1024;

/**
 * Plans are prepared statements, per connection: planning one cost PostgreSQL 4-5 ms of the benchmark
 * page's 11, as much as running it. A prepared plan stays in each connection's backend (~540 KB for
 * the benchmark's, measured in pg_backend_memory_contexts), and these texts come from clients'
 * documents: only MAX_NAMED_PLANS texts of the process up to MAX_NAMED_PLAN_CHARS are named (at most
 * ~4 MB per connection for plans like the benchmark's), on a budget apart from the project's own named
 * statements (server/db/named-statements.ts), whose places they must not take. A text is named on its
 * NAMED_AFTER_USES-th use, so that one-off documents (a person trying queries in GraphiQL) do not take
 * the places of the queries a client sends again and again. Others go unnamed.
 */
const MAX_NAMED_PLANS = 8;
const MAX_NAMED_PLAN_CHARS = 16 * 1024;
const NAMED_AFTER_USES = 3;
/** Texts counted towards a name; cleared when full (counting starts again, the names stay). */
const MAX_COUNTED_TEXTS = 1000;
const planNames = new Map<string, string>();
const uses = new Map<string, number>();

function statementName(sql: string): string | undefined {
  const name = planNames.get(sql);
  if (name !== undefined || planNames.size >= MAX_NAMED_PLANS || sql.length > MAX_NAMED_PLAN_CHARS) return name;
  const count = (uses.get(sql) ?? 0) + 1;
  if (count < NAMED_AFTER_USES) {
    if (uses.size >= MAX_COUNTED_TEXTS) uses.clear();
    uses.set(sql, count);
    return undefined;
  }
  uses.delete(sql);
  const named = 'autodev_read_' + createHash('sha1').update(sql).digest('hex').slice(0, 30);
  planNames.set(sql, named);
  return named;
}

/** The `data` JSON text, or null when the general path must answer. */
async function answer(services: Services, plan: ReadPlan, inputs: ReadInputs): Promise<string | null> {
  let values: unknown[];
  try {
    values = plan.params.map((p) => p(inputs));
  } catch {
    return null; // a value the plan does not answer (NotCompiled) or one graphql-js would refuse
  }
  const { rows } = await services.pool.query<{ body: string | null }>({ name: statementName(plan.sql), text: plan.sql, values });
  return rows[0]?.body ?? null;
}

/** An execution result whose JSON Yoga writes with `stringify` (the text as PostgreSQL built it). */
function compiledResult(data: string): ExecutionResult {
  const text = `{"data":${data}}`;
  return {
    get data() {
      return (JSON.parse(text) as { data: ExecutionResult['data'] }).data;
    },
    stringify: () => text,
  } as ExecutionResult;
}
