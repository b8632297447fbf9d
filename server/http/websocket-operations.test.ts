// One bad operation on a WebSocket is that operation's error, never the connection's end: the
// other subscriptions on the socket keep streaming.
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendJobEvents } from '../jobs/job-event.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

/** A hand-written graphql-transport-ws client: every message it receives, by operation id. */
async function openSocket() {
  const ws = new WebSocket(t.url.replace('http', 'ws') + '/graphql', 'graphql-transport-ws');
  const byId = new Map<string, any[]>();
  let close: { code: number; reason: string } | null = null;
  ws.on('close', (code, reason) => (close = { code, reason: reason.toString() }));
  ws.on('message', (raw) => {
    const m = JSON.parse((raw as Buffer).toString());
    if (m.id) byId.set(m.id, [...(byId.get(m.id) ?? []), m]);
  });
  await new Promise<void>((resolve) => {
    ws.on('message', (raw: Buffer) => {
      if (JSON.parse(raw.toString()).type === 'connection_ack') resolve();
    });
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${t.adminToken}` } })));
  });
  return {
    ws,
    messages: (id: string) => byId.get(id) ?? [],
    closed: () => close,
    subscribe: (id: string, payload: Record<string, unknown>) => ws.send(JSON.stringify({ id, type: 'subscribe', payload })),
  };
}

/** Waits until the operation has ended (error or complete), at most 5 s. */
async function ended(socket: Awaited<ReturnType<typeof openSocket>>, id: string) {
  await expect
    .poll(() => socket.messages(id).some((m) => m.type === 'error' || m.type === 'complete') || socket.closed() !== null, {
      timeout: 5000,
      interval: 10,
    })
    .toBe(true);
  return socket.messages(id);
}

describe('a malformed subscribe', () => {
  it('an unparsable query is an error message for that id (GRAPHQL_PARSE_FAILED, with a sentence); the socket stays open', async () => {
    const s = await openSocket();
    s.subscribe('bad', { query: 'subscription { projectEvents { seq ' });
    const msgs = await ended(s, 'bad');
    expect(s.closed()).toBeNull();
    expect(msgs).toHaveLength(1);
    expect(msgs[0].type).toBe('error');
    expect(msgs[0].payload[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(msgs[0].payload[0].message).toMatch(/^Syntax Error: /);
    s.subscribe('unknown-field', { query: 'subscription { nope }' });
    const invalid = await ended(s, 'unknown-field');
    expect(invalid[0].payload[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(invalid[0].payload[0].message).toMatch(/Cannot query field "nope"/);
    s.ws.close();
  });

  it('fuzzed subscribe payloads never close the socket, and a subscription opened before them keeps streaming', async () => {
    const s = await openSocket();
    const jobId = (await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } })).data.createJob.id;
    s.subscribe('live', {
      query: 'subscription($id: ID!) { jobEvents(jobId: $id, afterSeq: 1) { seq message } }',
      variables: { id: jobId },
    });
    await new Promise((r) => setTimeout(r, 300));

    const fragments = [
      'subscription',
      'query',
      'mutation',
      '{',
      '}',
      '(',
      ')',
      '$id',
      ':',
      'ID!',
      'jobEvents',
      'projectEvents',
      'seq',
      '...',
      'fragment',
      'on',
      '@skip',
      '"',
      '\\u0000',
      '#',
      '\n',
      'viewer { role }',
      '__schema { types { name } }',
    ];
    const query = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.array(fc.constantFrom(...fragments), { maxLength: 30 }).map((parts) => parts.join(' ')),
      fc.constantFrom(
        'subscription { projectEvents { seq } } subscription { projectEvents { seq } }',
        'subscription A { jobEvents(jobId: "x") { seq } }',
        '{ viewer { role } }',
      ),
    );
    const variables = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
    );
    const operationName = fc.oneof(fc.constant(undefined), fc.constant(null), fc.string({ maxLength: 20 }), fc.constant('A'));
    let n = 0;
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(query, variables, operationName, async (q, v, op) => {
        const id = `f${n++}`;
        s.subscribe(id, { query: q, ...(v === undefined ? {} : { variables: v }), ...(op === undefined ? {} : { operationName: op }) });
        const msgs = await ended(s, id);
        if (s.closed()) throw new Error(`socket closed ${JSON.stringify(s.closed())} by ${JSON.stringify({ q, v, op })}`);
        // A subscription that started (the valid ones) is stopped by the client, as a client would.
        if (!msgs.some((m) => m.type === 'error' || m.type === 'complete')) s.ws.send(JSON.stringify({ id, type: 'complete' }));
        for (const m of msgs) {
          const errors = m.type === 'error' ? m.payload : (m.payload?.errors ?? []);
          for (const e of errors) {
            if (!e.extensions?.code)
              throw new Error(`an error without extensions.code: ${JSON.stringify(e)} for ${JSON.stringify({ q, v, op })}`);
            outcomes.set(e.extensions.code, (outcomes.get(e.extensions.code) ?? 0) + 1);
          }
        }
      }),
      { numRuns: 300, plugins: [fc.interruptAfterTimeLimit(60_000)] },
    );
    expect(s.closed()).toBeNull();

    // The subscription from before the fuzzing still streams.
    const before = s.messages('live').length;
    const { pool, events } = t.app.services;
    await events.publish(await appendJobEvents(pool, jobId, [{ type: 'LOG', message: 'after the fuzzing', actor: 'test' }]));
    await expect.poll(() => s.messages('live').length, { timeout: 5000 }).toBe(before + 1);
    expect(s.messages('live').at(-1).payload.data.jobEvents.message).toBe('after the fuzzing');
    console.log(`subscribe fuzz: ${n} payloads on one socket, 0 closes; error codes: ${JSON.stringify(Object.fromEntries(outcomes))}`);
    s.ws.close();
  }, 120_000);
});
