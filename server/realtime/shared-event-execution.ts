import type { Plugin } from '@envelop/core';
import {
  createSourceEventStream,
  execute,
  GraphQLError,
  getOperationAST,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';

/**
 * Subscribers that would compute the same result for an event share one execution of their
 * selection: same document, operation and variables, and the same project and role (what a
 * resolver may depend on besides the event). Events reach every subscriber of a channel as one
 * object (see event-bus.ts), so the first subscriber to map an event executes it and the others
 * take its result; an event read from the table for one subscriber (a replay) is its own object
 * and is executed for it alone.
 */
type Group = { readonly key: string };
/** Counts executions (autodev_subscription_executions_total). */
type Counter = { inc(): void };
/** What of the request's context a result may depend on besides the event (see schema/context.ts). */
type CallerContext = { principal?: { projectId: string; role: string } | null };

const groupsByDocument = new WeakMap<DocumentNode, Map<string, Group>>();
const resultsByEvent = new WeakMap<object, Map<Group, ExecutionResult | Promise<ExecutionResult>>>();

function groupOf(args: ExecutionArgs): Group {
  const ctx = args.contextValue as CallerContext | undefined;
  const key = JSON.stringify([
    args.operationName ?? null,
    args.variableValues ?? null,
    ctx?.principal?.projectId ?? null,
    ctx?.principal?.role ?? null,
  ]);
  let groups = groupsByDocument.get(args.document);
  if (!groups) groupsByDocument.set(args.document, (groups = new Map<string, Group>()));
  let group = groups.get(key);
  // Kept while the document is (Yoga's parse cache holds documents by query text).
  if (!group) groups.set(key, (group = { key }));
  return group;
}

/** The result of `args`' selection for `event`: executed once per event and group. */
export function sharedResult(
  event: unknown,
  group: Group,
  args: ExecutionArgs,
  executed: Counter,
): ExecutionResult | Promise<ExecutionResult> {
  if (event === null || typeof event !== 'object') {
    executed.inc();
    return execute({ ...args, rootValue: event });
  }
  let results = resultsByEvent.get(event);
  if (!results) resultsByEvent.set(event, (results = new Map<Group, ExecutionResult | Promise<ExecutionResult>>()));
  let result = results.get(group);
  if (!result) {
    executed.inc();
    results.set(group, (result = execute({ ...args, rootValue: event })));
  }
  return result;
}

/** An error of the event stream as graphql-tools' executor reports it (the code survives masking). */
function streamError(err: unknown, args: ExecutionArgs): GraphQLError {
  if (err instanceof GraphQLError) return err;
  const error = err instanceof Error ? err : new Error(String(err));
  const operation = getOperationAST(args.document, args.operationName);
  return new GraphQLError(error.message, { originalError: error, nodes: operation ? [operation] : undefined });
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * Maps each event of `source` to its (shared) result, one at a time and in order. A class, not
 * closures per subscription: under tsx (keepNames) every named closure costs ~300 bytes while it lives.
 */
class MappedEvents implements AsyncIterableIterator<ExecutionResult> {
  private it: AsyncIterator<unknown>;
  private group: Group;

  constructor(
    source: AsyncIterable<unknown>,
    private args: ExecutionArgs,
    private executed: Counter,
  ) {
    this.it = source[Symbol.asyncIterator]();
    this.group = groupOf(args);
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    return this.it.next().then(
      (r) => {
        if (r.done) return DONE;
        const result = sharedResult(r.value, this.group, this.args, this.executed);
        // A result computed synchronously is handed over without another promise.
        return result instanceof Promise ? result.then((value) => ({ done: false, value })) : { done: false, value: result };
      },
      (err: unknown) => {
        throw streamError(err, this.args);
      },
    );
  }

  async return(): Promise<IteratorReturnResult<undefined>> {
    await this.it.return?.();
    return DONE;
  }

  async throw(err: unknown): Promise<never> {
    await this.it.return?.();
    throw err;
  }
}

/**
 * Replaces the executor's subscribe for subscriptions: the source stream is created as before
 * (the field's `subscribe`, with its authorization), and each event is then executed through
 * `sharedResult` instead of once per subscriber. Requests the source stream refuses (bad
 * variables, a failed `subscribe`) take the executor's own path, so their errors read as before.
 */
export function sharedEventExecutionPlugin(executed: Counter): Plugin {
  return {
    onSubscribe({ subscribeFn, setSubscribeFn }) {
      setSubscribeFn(async (args) => {
        // Envelop types the executor's arguments and results `any`; these are graphql's own.
        const executionArgs = args as ExecutionArgs;
        const stream = await createSourceEventStream(executionArgs);
        if (!(Symbol.asyncIterator in stream)) return subscribeFn(args) as unknown;
        return new MappedEvents(stream, executionArgs, executed);
      });
    },
  };
}
