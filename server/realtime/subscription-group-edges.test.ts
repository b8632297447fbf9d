// Edges of subscription groups (subscription-group.ts) seen by clients over real WebSockets and SSE:
// what one member does (leaves while starting, completes one of two operations sharing the group,
// has its token revoked) never changes what another gets, a member that leaves holds nothing, and a
// result written directly to a socket reads as the same result over SSE (masked errors included).
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { appendJobEvents } from '../jobs/job-event.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { sseSubscription } from '../test/sse-subscription.ts';
import { publishLogEvents, publishUntilLive } from '../test/publish-log-events.ts';

const QUERY = 'subscription { projectEvents { jobId seq message } }';

let t: TestServer;
const logLines: string[] = [];
beforeAll(async () => {
  t = await startTestServer({ logLines });
});
afterAll(async () => {
  await t?.close();
});

type Message = { id?: string; type: string; payload?: any };

/** A graphql-transport-ws client on a bare socket: every message it gets, in order. */
function connect(token = t.adminToken) {
  const ws = new WebSocket(t.url.replace('http', 'ws') + '/graphql', 'graphql-transport-ws');
  const messages: Message[] = [];
  let acked!: () => void;
  const ack = new Promise<void>((resolve) => (acked = resolve));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
  ws.on('message', (raw) => {
    const m = JSON.parse((raw as Buffer).toString()) as Message;
    messages.push(m);
    if (m.type === 'connection_ack') acked();
  });
  ws.on('error', () => {});
  const send = (m: object) => ws.send(JSON.stringify(m));
  return {
    ws,
    messages,
    ack,
    closed,
    subscribe: (id: string, query = QUERY, variables?: Record<string, unknown>) =>
      send({ id, type: 'subscribe', payload: { query, variables } }),
    complete: (id: string) => send({ id, type: 'complete' }),
    /** The seqs of `jobId` this operation got, in order. */
    seqs: (id: string, jobId: string) =>
      messages
        .filter((m) => m.id === id && m.type === 'next' && m.payload.data?.projectEvents?.jobId === jobId)
        .map((m) => m.payload.data.projectEvents.seq as number),
    /** The types of this operation's messages (next, error, complete), in order. */
    types: (id: string) => messages.filter((m) => m.id === id).map((m) => m.type),
  };
}

/** An SSE subscriber: every `data` payload it got. */
const sse = (query = QUERY) => sseSubscription(t.url, t.adminToken, query);

const active = async () =>
  (await t.app.services.metrics.subscriptions.get()).values.find((v) => v.labels.field === 'projectEvents')?.value ?? 0;

async function newJob(): Promise<string> {
  return (await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } })).data.createJob.id;
}

const publish = (jobId: string, n: number, message?: string) => publishLogEvents(t.app.services, jobId, n, message);
const untilLive = (jobId: string, live: () => boolean) => publishUntilLive(t.app.services, jobId, live);

describe('subscription group edges', () => {
  it('a client that completes one of two operations sharing a group on one socket: the other gets every event once, in order', async () => {
    const jobId = await newJob();
    const c = connect();
    await c.ack;
    c.subscribe('a');
    c.subscribe('b');
    await untilLive(jobId, () => c.seqs('a', jobId).length > 0 && c.seqs('b', jobId).length > 0);
    c.complete('a');
    const aBefore = c.seqs('a', jobId).length;
    const first = c.seqs('b', jobId).length;
    const seqs = [...(await publish(jobId, 50)), ...(await publish(jobId, 50))];
    await expect.poll(() => c.seqs('b', jobId).slice(first), { timeout: 10_000 }).toEqual(seqs);
    expect(c.seqs('a', jobId).length, 'nothing after its complete').toBe(aBefore);
    expect(
      c.types('a').filter((x) => x !== 'next'),
      'a completed operation is not answered',
    ).toEqual([]);
    c.ws.close();
    await c.closed;
    await expect.poll(active, { timeout: 10_000 }).toBe(0);
  });

  it('a member leaving while it is being set up (complete or close in the same packet as subscribe) holds nothing', async () => {
    const jobId = await newJob();
    await expect.poll(active, { timeout: 10_000 }).toBe(0);
    const before = await active();
    const stays = connect();
    await stays.ack;
    stays.subscribe('1');
    await untilLive(jobId, () => stays.seqs('1', jobId).length > 0);
    expect(await active()).toBe(before + 1);
    for (let i = 0; i < 10; i++) {
      const c = connect();
      await c.ack;
      // Both messages arrive together: the complete is read while the subscribe is being set up.
      c.ws.send(JSON.stringify({ id: 'x', type: 'subscribe', payload: { query: QUERY } }));
      if (i % 2 === 0) c.complete('x');
      else c.ws.terminate();
      if (i % 2 === 0) {
        await new Promise((r) => setTimeout(r, 200));
        c.ws.close();
      }
      await c.closed;
    }
    await expect.poll(active, { timeout: 10_000 }).toBe(before + 1);
    const first = stays.seqs('1', jobId).length;
    const seqs = await publish(jobId, 20);
    await expect.poll(() => stays.seqs('1', jobId).slice(first), { timeout: 10_000 }).toEqual(seqs);
    stays.ws.close();
    await stays.closed;
    await expect.poll(active, { timeout: 10_000 }).toBe(before);
  });

  it('a revoked token ends its own member (error, then 4401) while the member that joined its group goes on', async () => {
    const res = await t.gql(`mutation($input: ApiTokenInput!) { createApiToken(input: $input) { secret token { id } } }`, {
      input: { name: `edge-${Math.random()}`, role: 'VIEWER' },
    });
    const revoked = { id: res.data.createApiToken.token.id as string, secret: res.data.createApiToken.secret as string };
    const other = await t.token('VIEWER');
    const jobId = await newJob();
    // The revoked token's member comes first: the group executes with its context.
    const a = connect(revoked.secret);
    await a.ack;
    a.subscribe('1');
    await untilLive(jobId, () => a.seqs('1', jobId).length > 0);
    const b = connect(other);
    await b.ack;
    b.subscribe('1');
    await untilLive(jobId, () => b.seqs('1', jobId).length > 0);
    expect((await t.gql(`mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: revoked.id })).data.revokeApiToken).toBe(true);
    expect((await a.closed).code).toBe(4401);
    expect(a.types('1').filter((x) => x !== 'next')).toEqual(['error']);
    const first = b.seqs('1', jobId).length;
    const seqs = await publish(jobId, 30);
    await expect.poll(() => b.seqs('1', jobId).slice(first), { timeout: 10_000 }).toEqual(seqs);
    expect(b.types('1').filter((x) => x !== 'next')).toEqual([]);
    b.ws.close();
    await b.closed;
    await expect.poll(active, { timeout: 10_000 }).toBe(0);
  });

  it('members whose variables differ (@include) get results of their own shape', async () => {
    const query = 'subscription($full: Boolean!) { projectEvents { jobId seq message @include(if: $full) } }';
    const jobId = await newJob();
    const c = connect();
    await c.ack;
    c.subscribe('full', query, { full: true });
    c.subscribe('bare', query, { full: false });
    await untilLive(jobId, () => c.seqs('full', jobId).length > 0 && c.seqs('bare', jobId).length > 0);
    const seqs = await publish(jobId, 5, 'shaped');
    await expect.poll(() => c.seqs('bare', jobId).slice(-5), { timeout: 10_000 }).toEqual(seqs);
    await expect.poll(() => c.seqs('full', jobId).slice(-5), { timeout: 10_000 }).toEqual(seqs);
    const last = (id: string) => c.messages.filter((m) => m.id === id && m.type === 'next').at(-1)!.payload.data.projectEvents;
    expect(last('full')).toEqual({ jobId, seq: seqs[4], message: 'shaped 4' });
    expect(last('bare')).toEqual({ jobId, seq: seqs[4] });
    c.ws.close();
    await c.closed;
    await expect.poll(active, { timeout: 10_000 }).toBe(0);
  });

  it("an event's execution error reads the same over WebSocket as over SSE: masked, with a code", async () => {
    const query = 'subscription { projectEvents { jobId seq type } }';
    const jobId = await newJob();
    const c = connect();
    await c.ack;
    c.subscribe('1', query);
    c.subscribe('2', query);
    const s = sse(query);
    onTestFinished(() => s.close());
    const sseSeqs = () => s.payloads.filter((p) => p.data?.projectEvents?.jobId === jobId).length;
    await untilLive(jobId, () => c.seqs('1', jobId).length > 0 && c.seqs('2', jobId).length > 0 && sseSeqs() > 0);
    const logged = logLines.length;
    // An event the schema cannot represent (a type outside the enum): a server bug, not the client's.
    const { pool, events } = t.app.services;
    const [event] = await appendJobEvents(pool, jobId, [{ type: 'LOG', message: 'bad', actor: 'test' }]);
    await events.publish([{ ...event, type: 'NOT_A_TYPE' as never }]);
    const errorsOf = (payloads: any[]) => payloads.find((p) => p.errors)?.errors;
    await expect.poll(() => errorsOf(s.payloads), { timeout: 10_000 }).toBeDefined();
    await expect
      .poll(() => errorsOf(c.messages.filter((m) => m.id === '1' && m.type === 'next').map((m) => m.payload)), { timeout: 10_000 })
      .toBeDefined();
    const overSse = errorsOf(s.payloads);
    const overWs = errorsOf(c.messages.filter((m) => m.id === '1' && m.type === 'next').map((m) => m.payload));
    expect(overSse[0].extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(JSON.stringify(overSse)).not.toContain('NOT_A_TYPE');
    expect(overWs).toEqual(overSse);
    const nextsOf2 = () => c.messages.filter((m) => m.id === '2' && m.type === 'next').map((m) => m.payload);
    await expect.poll(() => errorsOf(nextsOf2()), { timeout: 10_000 }).toEqual(overSse);
    // Logged once by Yoga for the SSE member, once for both WebSocket operations (masked once per result).
    const unexpected = logLines.slice(logged).filter((l) => l.includes('unexpected error') && l.includes('NOT_A_TYPE'));
    expect(unexpected.length).toBe(2);
    s.close();
    c.ws.close();
    await c.closed;
    await expect.poll(active, { timeout: 10_000 }).toBe(0);
  });

  it('holds nothing for a subscription once it ended, whatever its variables (one group each)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heap = () => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    const c = connect();
    await c.ack;
    let next = 0;
    // Ten at a time, each with variables of its own (100 KB an operation that it does not declare,
    // which graphql-js ignores, as it does a job's id or afterSeq): ten groups, then none.
    const round = async () => {
      const ids = Array.from({ length: 10 }, () => `p${next++}`);
      for (const id of ids) c.subscribe(id, QUERY, { pad: randomBytes(50_000).toString('hex') });
      await expect.poll(active, { timeout: 10_000 }).toBe(10);
      for (const id of ids) c.complete(id);
      await expect.poll(active, { timeout: 10_000 }).toBe(0);
    };
    await round();
    const before = heap();
    for (let i = 0; i < 10; i++) await round();
    const grown = heap() - before;
    // 100 operations of 100 KB of variables each: ~10 MB if anything keeps them.
    expect(grown, `heap grew by ${Math.round(grown / 1024)} KiB`).toBeLessThan(3 * 1024 * 1024);
    c.ws.close();
    await c.closed;
  });
});
