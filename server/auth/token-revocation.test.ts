// Revoking (or expiring) a token ends its open subscriptions on every API process: two API
// processes on one PostgreSQL and one Redis, a subscriber on B, the revocation through A.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAutodevProcess, type AutodevProcess } from '../test/autodev-process.ts';
import { createTestDatabase, TEST_REDIS_URL } from '../test/database.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { gqlRequest, startTestServer } from '../test/harness.ts';
import { generateSecret } from './tokens.ts';

const BOUND_MS = 2000; // stated in the README: a revocation ends subscriptions within a second while Redis is up
const PROJECT_EVENTS = `subscription { projectEvents { jobId seq message } }`;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
const adminToken = generateSecret();
let a: AutodevProcess;
let b: AutodevProcess;
beforeAll(async () => {
  db = await createTestDatabase();
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    AUTODEV_ADMIN_TOKEN: adminToken,
    AUTODEV_SIGNING_KEY: 'k',
    AUTODEV_TOKEN_RECHECK_SECONDS: '60',
  };
  a = await startAutodevProcess('api', env);
  b = await startAutodevProcess('api', env);
}, 120_000);
afterAll(async () => {
  await a?.kill('SIGTERM');
  await b?.kill('SIGTERM');
  await db?.drop();
});

const gql = (p: AutodevProcess, query: string, variables?: Record<string, unknown>, token = adminToken) =>
  gqlRequest(p.url!, query, variables, token);

async function newToken(extra: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
  const res = await gql(a, `mutation($input: ApiTokenInput!) { createApiToken(input: $input) { secret token { id expiresAt } } }`, {
    input: { name: `t-${Math.random()}`, role: 'VIEWER', ...extra },
  });
  expect(res.errors).toBeUndefined();
  return { id: res.data.createApiToken.token.id, secret: res.data.createApiToken.secret };
}

/** A WebSocket subscription on B: what it received, how it ended, and the socket's close. */
function wsSubscriber(secret: string) {
  const seen: unknown[] = [];
  let closed: { code: number; reason: string } | null = null;
  const client = createClient({
    url: b.url!.replace('http', 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${secret}` },
    retryAttempts: 5,
    // Keeps the socket after its last operation ended (a lazy client closes it itself with 1000 the
    // moment the operation's error arrives, racing the server's 4401): the close code seen is the server's.
    lazy: false,
    onNonLazyError: () => {}, // the close is asserted below; the default prints the whole CloseEvent
    on: { closed: (e) => (closed = e as { code: number; reason: string }) },
  });
  const ended = new Promise<{ error: any; at: number }>((resolve) =>
    client.subscribe(
      { query: PROJECT_EVENTS },
      {
        next: (v) => seen.push(v),
        error: (error) => resolve({ error, at: Date.now() }),
        complete: () => resolve({ error: null, at: Date.now() }),
      },
    ),
  );
  return { seen, ended, closed: () => closed, client };
}

/** An SSE subscription on B (Yoga's distinct-connections mode): its raw text and when the stream ended. */
function sseSubscriber(secret: string) {
  let text = '';
  const ended = (async () => {
    const res = await fetch(`${b.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ query: PROJECT_EVENTS }),
    });
    const reader = res.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    return Date.now();
  })();
  return { text: () => text, ended };
}

/** The promise's value, or a failure naming what did not happen within `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)),
  ]);
}

async function logEvent(message: string) {
  const job = await gql(a, CREATE_JOB, { input: { templateSlug: 'triage-bug', input: { ...TRIAGE_INPUT, title: message } } });
  expect(job.errors).toBeUndefined();
}

/** Publishes events (jobs made through A) until every subscriber says it received one: live, no sleep. */
async function untilLive(live: () => boolean, publish: (i: number) => Promise<unknown> = (i) => logEvent(`probe ${i}`)) {
  for (let i = 0; i < 50 && !live(); i++) {
    await publish(i);
    await expect
      .poll(live, { timeout: 500 })
      .toBe(true)
      .catch(() => {});
  }
  expect(live(), 'every subscriber received an event').toBe(true);
}

describe('revoking a token', () => {
  it('ends its open subscriptions on another API process, over WebSocket and SSE, with UNAUTHENTICATED and a sentence, within the bound', async () => {
    const t = await newToken();
    const ws = wsSubscriber(t.secret);
    const sse = sseSubscriber(t.secret);
    // Both are live: an event published through A reaches them on B.
    await untilLive(() => ws.seen.length > 0 && sse.text().includes('"projectEvents"'));

    const revokedAt = Date.now();
    const res = await gql(a, `mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: t.id });
    expect(res.data.revokeApiToken).toBe(true);

    const wsEnd = await within(ws.ended, 3 * BOUND_MS, 'the WebSocket subscription ending');
    const sseEndedAt = await within(sse.ended, 3 * BOUND_MS, 'the SSE stream ending');
    const wsMs = wsEnd.at - revokedAt;
    const sseMs = sseEndedAt - revokedAt;
    // WebSocket: the operation's error names the reason, then the socket closes with 4401 (final for the client).
    expect(wsEnd.error?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_REVOKED' });
    expect(wsEnd.error[0].message).toBe('The API token has been revoked.');
    await expect.poll(() => ws.closed()?.code, { timeout: 3000 }).toBe(4401);
    expect(ws.closed()!.reason).toBe('The API token has been revoked.');
    // SSE: the stream carries the same error, then ends.
    expect(sse.text()).toContain('"code":"UNAUTHENTICATED"');
    expect(sse.text()).toContain('The API token has been revoked.');
    expect(wsMs).toBeLessThan(BOUND_MS);
    expect(sseMs).toBeLessThan(BOUND_MS);

    // Nothing more reaches the revoked token, and a new connection with it is refused at once.
    const before = ws.seen.length;
    await logEvent('after revocation');
    await new Promise((r) => setTimeout(r, 500));
    expect(ws.seen.length).toBe(before);
    await ws.client.dispose();
    console.log(`revocation (process A) → subscription ended (process B): WebSocket ${wsMs} ms, SSE ${sseMs} ms (bound ${BOUND_MS} ms)`);
  }, 60_000);

  it('a subscription of another token is not affected', async () => {
    const doomed = await newToken();
    const other = await newToken();
    const kept = wsSubscriber(other.secret);
    const gone = wsSubscriber(doomed.secret);
    await untilLive(() => kept.seen.length > 0 && gone.seen.length > 0);
    const keptBefore = kept.seen.length;
    await gql(a, `mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: doomed.id });
    expect((await within(gone.ended, 3 * BOUND_MS, 'the revoked subscription ending')).error[0].extensions.code).toBe('UNAUTHENTICATED');
    await logEvent('other token still streams');
    await expect.poll(() => kept.seen.length, { timeout: 10_000 }).toBeGreaterThan(keptBefore);
    expect(kept.closed()).toBeNull();
    await kept.client.dispose();
    await gone.client.dispose();
  }, 30_000);
});

describe('a token with an expiry', () => {
  it('is shown with expiresAt, ends its subscriptions at expiry (WebSocket and SSE), then authenticates as UNAUTHENTICATED saying it expired', async () => {
    const t = await newToken({ expiresInSeconds: 3 });
    const shown = await gql(a, `{ apiTokens { id expiresAt } }`);
    const expiresAt = Date.parse(shown.data.apiTokens.find((x: any) => x.id === t.id).expiresAt);
    expect(expiresAt - Date.now()).toBeGreaterThan(1000);
    expect((await gql(b, `{ viewer { role } }`, {}, t.secret)).data.viewer.role).toBe('VIEWER');
    const ws = wsSubscriber(t.secret);
    const sse = sseSubscriber(t.secret);
    const wsEnd = await within(ws.ended, 3000 + 3 * BOUND_MS, 'the WebSocket subscription ending at expiry');
    const sseEndedAt = await within(sse.ended, 3000 + 3 * BOUND_MS, 'the SSE stream ending at expiry');
    expect(wsEnd.error[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' });
    expect(wsEnd.error[0].message).toMatch(/^The API token expired at .*; create a new one\.$/);
    expect(sse.text()).toContain('TOKEN_EXPIRED');
    // Ended at expiry: not before, and within the bound after.
    for (const at of [wsEnd.at, sseEndedAt]) {
      expect(at).toBeGreaterThanOrEqual(expiresAt - 50);
      expect(at - expiresAt).toBeLessThan(BOUND_MS);
    }
    const after = await gql(b, `{ viewer { role } }`, {}, t.secret);
    expect(after.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(after.errors?.[0].message).toMatch(/expired at/);
    await ws.client.dispose();
    console.log(`expiry → subscription ended: WebSocket ${wsEnd.at - expiresAt} ms, SSE ${sseEndedAt - expiresAt} ms after expiresAt`);
  }, 30_000);

  it('refuses an expiry in the past, both fields at once, and out-of-range seconds with BAD_USER_INPUT', async () => {
    const create = (input: Record<string, unknown>) =>
      gql(a, `mutation($input: ApiTokenInput!) { createApiToken(input: $input) { secret } }`, {
        input: { name: 'x', role: 'VIEWER', ...input },
      });
    for (const input of [
      { expiresAt: new Date(Date.now() - 1000).toISOString() },
      { expiresAt: new Date(Date.now() + 60_000).toISOString(), expiresInSeconds: 60 },
      { expiresInSeconds: 0 },
      { expiresInSeconds: -5 },
      { expiresInSeconds: 2_000_000_000 },
      { expiresAt: 'tomorrow' },
    ]) {
      const res = await create(input);
      expect(res.errors?.[0].extensions?.code, JSON.stringify(input)).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0].message.length, JSON.stringify(input)).toBeGreaterThan(10);
    }
  });
});

describe('a revocation whose publish was lost (pub/sub away)', () => {
  it('still ends the subscription within AUTODEV_TOKEN_RECHECK_SECONDS', async () => {
    const t = await startTestServer({ env: { AUTODEV_TOKEN_RECHECK_SECONDS: '1' } });
    try {
      const secret = await t.token('VIEWER');
      let received = 0;
      const ended = new Promise<{ error: any; at: number }>((resolve) =>
        t.ws(secret).subscribe(
          { query: PROJECT_EVENTS },
          {
            next: () => {
              received++;
            },
            error: (error) => resolve({ error, at: Date.now() }),
            complete: () => resolve({ error: null, at: Date.now() }),
          },
        ),
      );
      await untilLive(
        () => received > 0,
        () => t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } }),
      );
      // Revoked in the database only: no message on the bus.
      const revokedAt = Date.now();
      await t.app.services.pool.query(`UPDATE "ApiToken" SET "revokedAt" = now() WHERE name = 'viewer-default'`);
      const end = await within(ended, 5000, 'the subscription ending after the recheck');
      expect(end.error[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_REVOKED' });
      expect(end.at - revokedAt).toBeLessThan(1000 + 500);
      console.log(`revocation without a publish → subscription ended after ${end.at - revokedAt} ms (recheck every 1 s)`);
    } finally {
      await t.close();
    }
  }, 30_000);
});
