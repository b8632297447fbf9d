// Who may hold a WebSocket: only a valid token, only for a while before connection_init, and only
// so many per process and per remote address; every refusal is a close code with a reason sentence.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { SERVER_FULL_CLOSE_CODE, TOO_MANY_FROM_ADDRESS_CLOSE_CODE } from './websocket-admission.ts';
import { UNAUTHENTICATED_CLOSE_CODE } from './websocket-server.ts';

const MAX = 60;
const PER_ADDRESS = 20;
/** The wait for connection_init on the server of the 4408 test; the other tests' server waits 5 s (a loaded machine may take longer than 400 ms to send it). */
const INIT_TIMEOUT_MS = 400;
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({
    env: {
      AUTODEV_WS_MAX_CONNECTIONS: String(MAX),
      AUTODEV_WS_MAX_CONNECTIONS_PER_ADDRESS: String(PER_ADDRESS),
      AUTODEV_WS_INIT_TIMEOUT_MS: '5000',
    },
  });
});
afterAll(async () => {
  await t?.close();
});

type Outcome = { acked: boolean; close: { code: number; reason: string } | null };

/** A raw graphql-transport-ws socket from `localAddress`; `init` is the connection_init payload (or none). */
function rawSocket(opts: { localAddress?: string; init?: Record<string, unknown> | null; server?: TestServer }) {
  const server = opts.server ?? t;
  const ws = new WebSocket(server.url.replace('http', 'ws') + '/graphql', 'graphql-transport-ws', { localAddress: opts.localAddress });
  const outcome: Outcome = { acked: false, close: null };
  const acked = new Promise<void>((resolve) =>
    ws.on('message', (m: Buffer) => {
      if (JSON.parse(m.toString()).type !== 'connection_ack') return;
      outcome.acked = true;
      resolve();
    }),
  );
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve((outcome.close = { code, reason: reason.toString() }))),
  );
  ws.on('error', () => {});
  if (opts.init !== null)
    ws.on('open', () =>
      ws.send(JSON.stringify({ type: 'connection_init', payload: opts.init ?? { authorization: `Bearer ${server.adminToken}` } })),
    );
  return { ws, outcome, acked, closed, settled: Promise.race([acked, closed]) };
}

describe('connection_init', () => {
  it('without a token, with an unknown token or a malformed one, the socket is closed with 4401 and a sentence saying why', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /Send an API token in connectionParams/],
      [{ authorization: 'Bearer adv_unknown' }, /The API token is not valid\./],
      [{ authorization: 'Basic x' }, /Send an API token/],
      [{ authorization: 42 }, /Send an API token in connectionParams/],
    ];
    for (const [init, reason] of cases) {
      const s = rawSocket({ init });
      await s.settled;
      expect(s.outcome.acked, JSON.stringify(init)).toBe(false);
      expect(s.outcome.close?.code, JSON.stringify(init)).toBe(UNAUTHENTICATED_CLOSE_CODE);
      expect(s.outcome.close?.reason, JSON.stringify(init)).toMatch(reason);
    }
  });

  it('a graphql-ws client with a wrong token gives up at once: one connection attempt, no retry loop', async () => {
    let attempts = 0;
    const client = createClient({
      url: t.url.replace('http', 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      connectionParams: { authorization: 'Bearer adv_wrong' },
      retryAttempts: 5, // the default: it would retry a 4403 for about 30 s
      on: { connecting: () => attempts++ },
    });
    const started = Date.now();
    const error = await new Promise<any>((resolve) =>
      client.subscribe(
        { query: 'subscription { projectEvents { seq } }' },
        { next: () => {}, error: resolve, complete: () => resolve(null) },
      ),
    );
    const ms = Date.now() - started;
    expect(error?.code).toBe(4401);
    expect(error?.reason).toBe('The API token is not valid.');
    await new Promise((r) => setTimeout(r, 1500)); // a retry would have started within this (1 s + jitter)
    expect(attempts).toBe(1);
    expect(ms).toBeLessThan(1000);
    await client.dispose();
  });

  it('a socket that never sends connection_init is closed with 4408 after the wait', async () => {
    const short = await startTestServer({ env: { AUTODEV_WS_INIT_TIMEOUT_MS: String(INIT_TIMEOUT_MS) } });
    try {
      const s = rawSocket({ init: null, server: short });
      const started = Date.now();
      const close = await s.closed;
      expect(close).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(INIT_TIMEOUT_MS - 50);
      expect(Date.now() - started).toBeLessThan(INIT_TIMEOUT_MS + 1000);
    } finally {
      await short.close();
    }
  });
});

describe('connection caps', () => {
  it(`holds at most ${PER_ADDRESS} sockets per address and ${MAX} per process; the rest are closed with 4429 or 1013 and a reason, and the server keeps serving`, async () => {
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    // 300 sockets from 10 loopback addresses (30 each), opened in waves of 30: the first address
    // passes its own cap, the others then pass the process's.
    const sockets: ReturnType<typeof rawSocket>[] = [];
    for (let address = 1; address <= 10; address++) {
      for (let i = 0; i < 30; i++) sockets.push(rawSocket({ localAddress: `127.0.0.${address}` }));
      await Promise.all(sockets.map((s) => s.settled));
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    const accepted = sockets.filter((s) => s.outcome.acked && !s.outcome.close);
    const closedWith = new Map<number, number>();
    for (const s of sockets) if (s.outcome.close) closedWith.set(s.outcome.close.code, (closedWith.get(s.outcome.close.code) ?? 0) + 1);
    expect(accepted.length).toBe(MAX);
    expect([...closedWith.keys()].sort()).toEqual([SERVER_FULL_CLOSE_CODE, TOO_MANY_FROM_ADDRESS_CLOSE_CODE].sort());
    expect(closedWith.get(SERVER_FULL_CLOSE_CODE)! + closedWith.get(TOO_MANY_FROM_ADDRESS_CLOSE_CODE)!).toBe(300 - MAX);
    for (const s of sockets.filter((x) => x.outcome.close)) {
      expect(s.outcome.close!.reason).toMatch(
        s.outcome.close!.code === SERVER_FULL_CLOSE_CODE
          ? /maximum of 60 WebSocket connections; try again later/
          : /Too many WebSocket connections from your address \(at most 20\)/,
      );
    }
    // The server still answers HTTP and GraphQL while full.
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    expect((await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } })).errors).toBeUndefined();

    // Closing sockets frees their places: a new connection is accepted again.
    for (const s of accepted.slice(0, 5)) s.ws.close(1000);
    await Promise.all(accepted.slice(0, 5).map((s) => s.closed));
    const again = rawSocket({ localAddress: '127.0.0.42' });
    await again.settled;
    expect(again.outcome.acked).toBe(true);
    for (const s of [...sockets, again]) s.ws.terminate();
    await Promise.all([...sockets, again].map((s) => s.closed));
    await new Promise((r) => setTimeout(r, 300)); // the server sees the resets
    console.log(
      `WebSocket caps: 300 sockets tried, ${accepted.length} accepted (cap ${MAX}/process, ${PER_ADDRESS}/address), closed: ${[...closedWith].map(([c, n]) => `${n}×${c}`).join(', ')}; test process RSS ${Math.round(rssBefore / 2 ** 20)} → peak ${Math.round(peakRss / 2 ** 20)} MiB`,
    );
  }, 60_000);

  it('per address: a single address gets at most its share even when the process has room', async () => {
    const sockets = Array.from({ length: PER_ADDRESS + 5 }, () => rawSocket({ localAddress: '127.0.0.77' }));
    await Promise.all(sockets.map((s) => s.settled));
    expect(sockets.filter((s) => s.outcome.acked).length).toBe(PER_ADDRESS);
    const refused = sockets.filter((s) => s.outcome.close);
    expect(refused.length).toBe(5);
    for (const s of refused) expect(s.outcome.close!.code).toBe(TOO_MANY_FROM_ADDRESS_CLOSE_CODE);
    for (const s of sockets) s.ws.terminate();
  });
});
