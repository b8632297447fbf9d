// Our graphql-transport-ws server (graphql-transport-ws.ts) against graphql-ws' own makeServer,
// which it replaces: any sequence of client messages (valid or not, in any order, with hooks that
// refuse, fail, answer with errors, run queries and subscriptions that yield, end, throw or idle),
// then the socket's close, gets the same messages, the same close code and reason, and the same
// hook calls from both (property test). The sockets are recorders; the protocol is all there is.
import fc from 'fast-check';
import { GraphQLError, buildSchema, execute, parse, subscribe, type ExecutionArgs } from 'graphql';
import { makeServer } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import { ProtocolConnection, type ConnectionContext } from './graphql-transport-ws.ts';

const schema = buildSchema('type Query { hello: String, boom: String } type Subscription { count(to: Int!): Int, fails: Int, idle: Int }');

async function* count(to: number) {
  for (let i = 1; i <= to; i++) yield await Promise.resolve({ count: i });
}
async function* fails() {
  yield await Promise.resolve({ fails: 1 });
  throw new Error('source failed');
}
const idle = () => ({
  [Symbol.asyncIterator]() {
    return this;
  },
  next: () => new Promise<IteratorResult<unknown>>(() => {}),
  return: () => Promise.resolve({ done: true as const, value: undefined }),
});
const rootValue = {
  hello: () => 'world',
  boom: () => {
    throw new Error('resolver failed');
  },
  count: ({ to }: { to: number }) => count(to),
  fails: () => fails(),
  idle: () => idle(),
};

interface Recorder {
  out: string[];
}

/** The same hooks for both servers, each call written to the log. */
function hooksFor(log: string[]) {
  return {
    connectionInitWaitTimeout: 0,
    onConnect: (ctx: { connectionParams?: Readonly<Record<string, unknown>> }) => {
      log.push(`onConnect ${JSON.stringify(ctx.connectionParams ?? null)}`);
      if (ctx.connectionParams?.refuse) return false;
      if (ctx.connectionParams?.throw) throw new Error('onConnect failed');
      return true;
    },
    onSubscribe: (_ctx: unknown, id: string, payload: { query: string; variables?: Record<string, unknown> | null }) => {
      log.push(`onSubscribe ${id} ${payload.query}`);
      if (payload.query === 'refused') return Promise.resolve([new GraphQLError('refused by the hook')]);
      if (payload.query === 'hook throws') return Promise.reject(new Error('onSubscribe failed'));
      let document;
      try {
        document = parse(payload.query);
      } catch (err) {
        return Promise.resolve([err as GraphQLError]);
      }
      return Promise.resolve({ schema, document, variableValues: payload.variables ?? undefined, rootValue, contextValue: {} });
    },
    execute: (args: ExecutionArgs) => execute(args),
    subscribe: (args: ExecutionArgs) => subscribe(args),
    onClose: (_ctx: unknown, code: number, reason: string) => {
      log.push(`onClose ${code} ${reason}`);
    },
  };
}

/** A socket that records what is sent and the first close; sends after a close are dropped, as on a closed socket. */
function recordingSocket(rec: Recorder, protocol: string) {
  let closed = false;
  return {
    protocol,
    send: (data: string) => {
      if (!closed) rec.out.push(data);
      return Promise.resolve();
    },
    close: (code: number, reason: string) => {
      if (!closed) rec.out.push(`close ${code} ${reason}`);
      closed = true;
    },
    fail: (what: string, err: unknown) => {
      rec.out.push(`${closed ? '' : 'close 4500 Internal server error, '}logged: ${what} (${(err as Error).message})`);
      closed = true;
    },
    logError: (what: string, err: unknown) => {
      rec.out.push(`logged: ${what} (${(err as Error).message})`);
    },
  };
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

/** Runs `messages` through one server; what it sent and which hooks it called. */
async function run(kind: 'ours' | 'graphql-ws', messages: string[], protocol: string) {
  const rec: Recorder = { out: [] };
  const socket = recordingSocket(rec, protocol);
  const hooks = hooksFor(rec.out);
  if (kind === 'ours') {
    const connection = new ProtocolConnection(socket, {}, hooks);
    for (const m of messages) {
      connection.handle(m).catch((err: unknown) => connection.failed(err));
      await settle();
    }
    await connection.closed(1000, 'bye');
  } else {
    const handlers: ((data: string) => Promise<void>)[] = [];
    const closed = makeServer(hooks as never).opened(
      { protocol, send: socket.send, close: socket.close, onMessage: (h) => void handlers.push(h) },
      {},
    );
    for (const m of messages) {
      handlers[0]?.(m).catch((err: unknown) => socket.fail('message handling', err));
      await settle();
    }
    await closed(1000, 'bye');
  }
  await settle();
  return rec.out;
}

const ids = fc.constantFrom('1', '2', 'x');
const queries = fc.constantFrom(
  '{ hello }',
  '{ boom }',
  'subscription { count(to: 2) }',
  'subscription { fails }',
  'subscription { idle }',
  'subscription { count(to: $n) }',
  'query A { hello } query B { hello }',
  'not graphql',
  'refused',
  'hook throws',
);
const message = fc.oneof(
  fc.constant({ type: 'connection_init' }),
  fc.constantFrom({ type: 'connection_init', payload: { refuse: true } }, { type: 'connection_init', payload: { throw: true } }),
  fc.constant({ type: 'connection_init', payload: { token: 'x' } }),
  fc.constantFrom({ type: 'ping' }, { type: 'ping', payload: { at: 1 } }, { type: 'pong' }),
  fc.record({ type: fc.constant('subscribe'), id: ids, payload: fc.record({ query: queries }) }),
  fc.record({ type: fc.constant('subscribe'), id: ids, payload: fc.record({ query: queries, variables: fc.constant({ n: 1 }) }) }),
  fc.record({ type: fc.constant('complete'), id: ids }),
  fc.constantFrom<unknown>(
    { type: 'subscribe', id: '', payload: { query: '{ hello }' } },
    { type: 'nope' },
    { type: 'subscribe', id: '1' },
    'not json',
  ),
);

describe('our graphql-transport-ws server answers as graphql-ws makeServer does', () => {
  it('for any sequence of client messages (property)', async () => {
    /** The messages graphql-ws' server sent, by type. */
    const sent = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(message, { maxLength: 10 }), async (sequence) => {
        const texts = sequence.map((m) => (typeof m === 'string' ? m : JSON.stringify(m)));
        // Mostly an ack first, so that the sequences reach the operations.
        const messages = sequence.length % 3 === 0 ? texts : [JSON.stringify({ type: 'connection_init' }), ...texts];
        const reference = await run('graphql-ws', messages, 'graphql-transport-ws');
        for (const line of reference.filter((l) => l.startsWith('{'))) {
          const { type } = JSON.parse(line) as { type: string };
          sent.set(type, (sent.get(type) ?? 0) + 1);
        }
        expect(await run('ours', messages, 'graphql-transport-ws')).toEqual(reference);
      }),
      { numRuns: 300 },
    );
    // The sequences reach the operations: acks, pongs, results, errors and completes were compared,
    // not only closes. (Each kind by itself: their total moves with the generated sequences.)
    console.log(
      `graphql-transport-ws: 300 sequences; messages sent by graphql-ws' server, ours the same: ${JSON.stringify(Object.fromEntries(sent))}`,
    );
    for (const type of ['connection_ack', 'pong', 'next', 'error', 'complete']) expect(sent.get(type) ?? 0, type).toBeGreaterThanOrEqual(5);
  });

  it('for a socket of another subprotocol', async () => {
    const messages = [JSON.stringify({ type: 'connection_init' })];
    const ours = await run('ours', messages, 'graphql-ws');
    expect(ours).toEqual(await run('graphql-ws', messages, 'graphql-ws'));
    expect(ours[0]).toBe('close 4406 Subprotocol not acceptable');
  });

  it('keeps an idle subscription as the operation until the client completes it or the socket closes', async () => {
    const rec: Recorder = { out: [] };
    const connection = new ProtocolConnection(recordingSocket(rec, 'graphql-transport-ws'), {}, hooksFor(rec.out));
    const ctx: ConnectionContext<object> = connection.ctx;
    await connection.handle(JSON.stringify({ type: 'connection_init' }));
    await connection.handle(JSON.stringify({ type: 'subscribe', id: 'a', payload: { query: 'subscription { idle }' } }));
    await connection.handle(JSON.stringify({ type: 'subscribe', id: 'b', payload: { query: 'subscription { idle }' } }));
    await settle();
    expect(Object.keys(ctx.subscriptions)).toEqual(['a', 'b']);
    await connection.handle(JSON.stringify({ type: 'complete', id: 'a' }));
    await settle();
    expect(Object.keys(ctx.subscriptions)).toEqual(['b']);
    await connection.closed(1000, 'bye');
    expect(Object.keys(ctx.subscriptions)).toEqual([]);
  });
  // Where ours departs from makeServer on purpose: an operation is told apart from the next one under
  // the same id, and a failing end does not keep the others from ending or onClose from running.
  it('ends an operation completed while it started, even when the client reuses its id at once', async () => {
    const rec: Recorder = { out: [] };
    const gates: (() => void)[] = [];
    let ended = 0;
    const idleSource = () => ({
      [Symbol.asyncIterator]() {
        return this;
      },
      next: () => new Promise<IteratorResult<unknown>>(() => {}),
      return: () => {
        ended++;
        return Promise.resolve({ done: true as const, value: undefined });
      },
    });
    const hooks = {
      ...hooksFor(rec.out),
      onSubscribe: () =>
        new Promise<ExecutionArgs>((resolve) =>
          gates.push(() =>
            resolve({ schema, document: parse('subscription { idle }'), rootValue: { idle: idleSource }, contextValue: {} }),
          ),
        ),
    };
    const connection = new ProtocolConnection(recordingSocket(rec, 'graphql-transport-ws'), {}, hooks);
    await connection.handle(JSON.stringify({ type: 'connection_init' }));
    const subscribe = JSON.stringify({ type: 'subscribe', id: '1', payload: { query: 'subscription { idle }' } });
    await connection.handle(subscribe);
    await connection.handle(JSON.stringify({ type: 'complete', id: '1' }));
    await connection.handle(subscribe);
    gates[0]();
    await settle();
    expect(ended, 'the completed operation ended').toBe(1);
    gates[1]();
    await settle();
    expect(Object.keys(connection.ctx.subscriptions)).toEqual(['1']);
    expect(ended).toBe(1);
    await connection.closed(1000, 'bye');
    expect(ended, 'the second operation ended with the socket').toBe(2);
    expect(rec.out.filter((line) => line.includes('"complete"'))).toEqual([]);
  });

  it("ends every operation and calls onClose when the socket closes, even if an operation's end fails", async () => {
    const rec: Recorder = { out: [] };
    let ended = 0;
    const source = (fails: boolean) => () => ({
      [Symbol.asyncIterator]() {
        return this;
      },
      next: () => new Promise<IteratorResult<unknown>>(() => {}),
      return: () => {
        ended++;
        return fails ? Promise.reject(new Error('end failed')) : Promise.resolve({ done: true as const, value: undefined });
      },
    });
    const hooks = {
      ...hooksFor(rec.out),
      onSubscribe: (_ctx: unknown, id: string) =>
        Promise.resolve({ schema, document: parse('subscription { idle }'), rootValue: { idle: source(id === 'a') }, contextValue: {} }),
    };
    const connection = new ProtocolConnection(recordingSocket(rec, 'graphql-transport-ws'), {}, hooks);
    await connection.handle(JSON.stringify({ type: 'connection_init' }));
    for (const id of ['a', 'b'])
      await connection.handle(JSON.stringify({ type: 'subscribe', id, payload: { query: 'subscription { idle }' } }));
    await settle();
    await connection.closed(1000, 'bye');
    expect(ended).toBe(2);
    expect(rec.out.slice(-2)).toEqual(['logged: ending an operation (end failed)', 'onClose 1000 bye']);
  });
});
