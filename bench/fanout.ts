// 2. Event fan-out: S graphql-ws subscribers on projectEvents while jobs run; latency from an
//    event's commit to its receipt, and events lost — versus a bare `ws` server broadcasting the
//    same payloads to the same number of sockets.
import { createClient, type Client } from 'graphql-ws';
import { WebSocket, WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { createTestDatabase } from '../server/test/database.ts';
import { startTestServer } from '../server/test/harness.ts';
import { addMinimalTemplate, createJobs, percentile, printTable, sleep, waitForTerminal } from './lib.ts';

const JOBS = Number(process.env.BENCH_FANOUT_JOBS ?? 20);

async function autodevRun(subscribers: number) {
  const db = await createTestDatabase();
  const t = await startTestServer({ databaseUrl: db.url, role: 'all', env: { AUTODEV_RATE_LIMIT_MUTATIONS_PER_MINUTE: '1000000', AUTODEV_MAX_SUBSCRIPTIONS_PER_TOKEN: '100000', AUTODEV_EXECUTOR: 'inline', AUTODEV_WORKER_CONCURRENCY: '4' } });
  await addMinimalTemplate(t);
  const latencies: number[] = [];
  const received = new Array(subscribers).fill(0);
  const clients: Client[] = [];
  let acked = 0;
  for (let i = 0; i < subscribers; i++) {
    const client = createClient({
      url: t.url.replace('http', 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${t.adminToken}` },
      retryAttempts: 0,
      on: { connected: () => void acked++ },
    });
    clients.push(client);
    client.subscribe(
      { query: 'subscription { projectEvents { seq createdAt } }' },
      {
        next: (v: any) => {
          latencies.push(Date.now() - Date.parse(v.data.projectEvents.createdAt));
          received[i]++;
        },
        error: () => {},
        complete: () => {},
      },
    );
  }
  while (acked < subscribers) await sleep(20);
  await sleep(500 + subscribers); // subscriptions are registered after the ack
  const started = Date.now();
  const ids = await createJobs(t, JOBS, 4);
  await waitForTerminal(t, ids);
  const { rows } = await t.app.services.pool.query<{ at: Date }>(`SELECT "createdAt" AS at FROM "JobEvent" WHERE "jobId" = ANY($1) ORDER BY "createdAt"`, [ids]);
  const expected = rows.length;
  // When each event was committed, relative to the first: the baseline replays the same bursts.
  const timeline = rows.map((r) => r.at.getTime() - rows[0].at.getTime());
  const deadline = Date.now() + 15_000;
  while (received.some((n) => n < expected) && Date.now() < deadline) await sleep(50);
  const durationMs = Date.now() - started;
  const lost = received.reduce((s, n) => s + Math.max(0, expected - n), 0);
  const duplicated = received.reduce((s, n) => s + Math.max(0, n - expected), 0);
  await Promise.all(clients.map((c) => c.dispose()));
  await t.close();
  await db.drop();
  return { latencies, lost, duplicated, expected, durationMs, timeline };
}

async function bareWsRun(subscribers: number, timeline: number[]) {
  const messages = timeline.length;
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const latencies: number[] = [];
  let received = 0;
  const sockets = await Promise.all(
    Array.from({ length: subscribers }, () => new Promise<WebSocket>((resolve) => {
      const ws = new WebSocket(url);
      ws.on('message', (m) => {
        const e = JSON.parse(String(m));
        latencies.push(Date.now() - e.sentAt);
        received++;
      });
      ws.on('open', () => resolve(ws));
    })),
  );
  // The same number of payloads of the same shape, sent on the same timeline (bursts included).
  const start = Date.now();
  for (let i = 0; i < messages; i++) {
    const wait = start + timeline[i] - Date.now();
    if (wait > 0) await sleep(wait);
    const payload = JSON.stringify({ type: 'next', id: '1', payload: { data: { projectEvents: { seq: i, createdAt: new Date().toISOString() } } }, sentAt: Date.now() });
    for (const c of wss.clients) c.send(payload);
  }
  const deadline = Date.now() + 10_000;
  while (received < messages * subscribers && Date.now() < deadline) await sleep(20);
  for (const s of sockets) s.close();
  await new Promise((r) => wss.close(r));
  return { latencies, lost: messages * subscribers - received };
}

export async function benchFanout() {
  for (const subscribers of [100, 1000]) {
    const ours = await autodevRun(subscribers);
    const base = await bareWsRun(subscribers, ours.timeline);
    printTable(`Event fan-out: ${subscribers} subscribers, ${JOBS} jobs, ${ours.expected} events each (${ours.expected * subscribers} deliveries)`, [
      ['latency p50', percentile(ours.latencies, 50), percentile(base.latencies, 50), 'ms'],
      ['latency p99', percentile(ours.latencies, 99), percentile(base.latencies, 99), 'ms'],
      ['latency max', percentile(ours.latencies, 100), percentile(base.latencies, 100), 'ms'],
    ]);
    console.log(`events lost: AutoDev ${ours.lost}, baseline ${base.lost}; duplicated: AutoDev ${ours.duplicated}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchFanout();
