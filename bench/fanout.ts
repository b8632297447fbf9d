// 2. Event fan-out: S graphql-ws subscribers on projectEvents while jobs run; latency from an
//    event's commit to its receipt, and events lost — versus a bare `ws` server broadcasting the
//    same payloads to the same number of sockets.
import { createClient } from 'graphql-ws';
import { WebSocket, WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createTestDatabase } from '../server/test/database.ts';
import { startTestServer } from '../server/test/harness.ts';
import { spawnClients, type Collected } from './fanout-clients.ts';
import {
  BENCH_LIMITS,
  addMinimalTemplate,
  profileWindow,
  createJobs,
  fmt,
  loopWindow,
  percentile,
  printTable,
  sleep,
  waitForTerminal,
} from './lib.ts';

const JOBS = Number(process.env.BENCH_FANOUT_JOBS ?? 20);
const SUBSCRIBER_COUNTS = (process.env.BENCH_FANOUT_SUBSCRIBERS ?? '100,1000').split(',').map(Number);
/**
 * AutoDev's subscribers: `ws` (default) are bare `ws` sockets speaking graphql-ws' protocol by
 * hand, with one JSON.parse per message like the baseline's clients; `graphql-ws` are graphql-ws'
 * `createClient` (its message validation, sinks and locks: client-side work the baseline's clients
 * do not do, in the same process as the server); `process`: the same bare sockets as `ws`, on both
 * sides, in a child process (bench/fanout-clients.ts), so the server's event loop carries no
 * client's reads. Its CPU figure adds the child's.
 */
const CLIENTS = process.env.BENCH_FANOUT_CLIENTS ?? 'ws';
if (CLIENTS !== 'ws' && CLIENTS !== 'graphql-ws' && CLIENTS !== 'process')
  throw new Error(`BENCH_FANOUT_CLIENTS: ws, graphql-ws or process, not ${CLIENTS}`);
const CLIENTS_LABEL = {
  ws: 'bare ws clients on both sides',
  'graphql-ws': "AutoDev's: graphql-ws createClient",
  process: 'bare ws clients on both sides, in a child process',
}[CLIENTS];
const QUERY = 'subscription { projectEvents { seq createdAt } }';

type ProjectEvent = { seq: number; createdAt: string };
type Subscriber = { close(): void | Promise<void> };
type Hooks = { connected: () => void; closed: () => void; next: (e: ProjectEvent) => void };

/** A graphql-ws client written by hand on a bare `ws` socket: connection_init, subscribe, then one JSON.parse per message. */
function bareSubscriber(url: string, token: string, hooks: Hooks): Subscriber {
  const ws = new WebSocket(url, 'graphql-transport-ws');
  ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
  ws.on('message', (m) => {
    const message = JSON.parse((m as Buffer).toString('utf8')) as { type: string; payload?: { data?: { projectEvents: ProjectEvent } } };
    if (message.type === 'next') hooks.next(message.payload!.data!.projectEvents);
    else if (message.type === 'connection_ack') {
      hooks.connected();
      ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: QUERY } }));
    } else if (message.type === 'ping') ws.send('{"type":"pong"}');
  });
  ws.on('close', () => hooks.closed());
  ws.on('error', () => {});
  return { close: () => ws.close() };
}

function graphqlWsSubscriber(url: string, token: string, hooks: Hooks): Subscriber {
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    on: { connected: hooks.connected, closed: hooks.closed },
  });
  client.subscribe<{ projectEvents: ProjectEvent }>(
    { query: QUERY },
    { next: (v) => hooks.next(v.data!.projectEvents), error: () => {}, complete: () => {} },
  );
  return { close: () => client.dispose() };
}

async function autodevRun(subscribers: number) {
  const db = await createTestDatabase();
  const t = await startTestServer({
    databaseUrl: db.url,
    role: 'all',
    env: { ...BENCH_LIMITS, AUTODEV_EXECUTOR: 'inline', AUTODEV_WORKER_CONCURRENCY: '4' },
    // BENCH_FANOUT_REDIS=1: events reach the bus through Redis (as with several processes), not in memory.
    ...(process.env.BENCH_FANOUT_REDIS === '1' ? { redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' } : {}),
  });
  await addMinimalTemplate(t);
  // One job before anyone subscribes: the modules a job's run loads on first use (~0.1 s of
  // compiling in the first run of the process) are loaded outside the measured window.
  await waitForTerminal(t, await createJobs(t, 1, 1));
  const latencies: number[] = [];
  // The same deliveries measured from the event's arrival on this process's bus (its publish after
  // the commit) instead of its insert: what the fan-out itself adds, without the job's own
  // transaction and publish. Keyed by seq and createdAt (the selection stays what it was). This
  // handler joins the channel after the subscribers', so its time is taken once the bus has
  // handed the event to every subscription's queue (synchronous, ~1-2 us each).
  const fromBus: number[] = [];
  const onBus = new Map<string, number>();
  const toBus: number[] = [];
  const received = new Array<number>(subscribers).fill(0);
  /** In-process clients' receipts: when each came and its event (turned into latencies after the window). */
  const receiptTimes: number[] = [];
  const receiptEvents: ProjectEvent[] = [];
  const clients: Subscriber[] = [];
  let acked = 0;
  let failed = 0;
  const url = t.url.replace('http', 'ws') + '/graphql';
  const remote = CLIENTS === 'process' ? await spawnClients('graphql-ws', url, subscribers, t.adminToken, QUERY) : null;
  if (remote) acked = subscribers;
  for (let i = 0; i < subscribers && !remote; i++) {
    const hooks: Hooks = {
      connected: () => {
        acked++;
      },
      closed: () => {
        if (acked < subscribers) failed++;
      },
      // Only the receipt's time is taken here, as the baseline's clients do (one JSON.parse, the
      // time and a push per message): parsing `createdAt` and finding the event's arrival on the
      // bus cost this process ~1.5 us per delivery (~0.23 s of a 1,000-subscriber window), on the
      // event loop the server shares with its clients; they are done once the window is over.
      next: (e) => {
        receiptTimes.push(Date.now());
        receiptEvents.push(e);
        received[i]++;
      },
    };
    clients.push((CLIENTS === 'ws' ? bareSubscriber : graphqlWsSubscriber)(url, t.adminToken, hooks));
  }
  const connectBy = Date.now() + 60_000;
  while (acked < subscribers) {
    // A refused or timed-out connection is not retried (retryAttempts 0): say so instead of waiting forever.
    if (Date.now() > connectBy) throw new Error(`only ${acked}/${subscribers} subscribers connected (${failed} closed) within 60 s`);
    await sleep(20);
  }
  await sleep(500 + subscribers); // subscriptions are registered after the ack
  const { rows: projects } = await t.app.services.pool.query<{ id: string }>(`SELECT id FROM "Project" WHERE slug = 'default'`);
  const offBus = await t.app.services.events.onProject(projects[0].id, (e) => {
    const at = Date.now();
    onBus.set(`${e.seq}|${Date.parse(e.createdAt)}`, at);
    // From the event's insert (its createdAt) to its arrival here: the job's commit, its answer
    // waiting for the event loop, the publish. Once per event, not per delivery.
    toBus.push(at - Date.parse(e.createdAt));
  });
  const started = Date.now();
  const cpuBefore = process.cpuUsage();
  remote?.start();
  const profile = await profileWindow();
  const loop = loopWindow();
  const ids = await createJobs(t, JOBS, 4);
  await waitForTerminal(t, ids);
  const { rows } = await t.app.services.pool.query<{ at: Date }>(
    `SELECT "createdAt" AS at FROM "JobEvent" WHERE "jobId" = ANY($1) ORDER BY "createdAt"`,
    [ids],
  );
  const expected = rows.length;
  // When each event was committed, relative to the first: the baseline replays the same bursts.
  const timeline = rows.map((r) => r.at.getTime() - rows[0].at.getTime());
  let remoteCpuMs = 0;
  if (remote) {
    const collected = await remote.collect(expected, 15_000);
    remoteCpuMs = collected.cpuMs;
    collected.perSocket.forEach((n, i) => (received[i] = n));
    const r = collected.receipts;
    for (let k = 0; k < r.length; k += 3) {
      latencies.push(r[k] - r[k + 2]);
      const busAt = onBus.get(`${r[k + 1]}|${r[k + 2]}`);
      if (busAt !== undefined) fromBus.push(r[k] - busAt);
    }
  }
  const deadline = Date.now() + 15_000;
  while (received.some((n) => n < expected) && Date.now() < deadline) await sleep(50);
  const durationMs = Date.now() - started;
  const loopFigures = loop();
  await profile?.stop(`fanout-${subscribers}`);
  for (let k = 0; k < receiptTimes.length; k++) {
    const createdAt = Date.parse(receiptEvents[k].createdAt);
    latencies.push(receiptTimes[k] - createdAt);
    const busAt = onBus.get(`${receiptEvents[k].seq}|${createdAt}`);
    if (busAt !== undefined) fromBus.push(receiptTimes[k] - busAt);
  }
  await offBus();
  const cpu = process.cpuUsage(cpuBefore);
  // CPU time of this process (server and clients) per 1,000 deliveries: unlike latency, it hardly
  // moves when other processes compete for the cores. It includes running the jobs themselves.
  const cpuMsPer1000 = (((cpu.user + cpu.system) / 1000 + remoteCpuMs) / (expected * subscribers)) * 1000;
  const lost = received.reduce((s, n) => s + Math.max(0, expected - n), 0);
  const duplicated = received.reduce((s, n) => s + Math.max(0, n - expected), 0);
  await Promise.all(
    clients.map(async (c) => {
      await c.close(); // void or a promise
    }),
  );
  await t.close();
  await db.drop();
  return { latencies, fromBus, toBus, loop: loopFigures, lost, duplicated, expected, durationMs, timeline, cpuMsPer1000 };
}

async function bareWsRun(subscribers: number, timeline: number[]) {
  const messages = timeline.length;
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const latencies: number[] = [];
  // The same receipts measured from the moment the timeline gives the event (its commit in
  // AutoDev's run), as AutoDev's are from the event's insert: what a baseline that falls behind
  // the timeline hides when measured from its send.
  const fromDue: number[] = [];
  let received = 0;
  const remote = CLIENTS === 'process' ? await spawnClients('bare', url, subscribers) : null;
  while (remote && wss.clients.size < subscribers) await sleep(10); // the server's side of each connection
  const onMessage = (m: unknown) => {
    // ws hands a text frame over as one Buffer (binaryType 'nodebuffer', its default).
    const e = JSON.parse((m as Buffer).toString('utf8')) as { sentAt: number; dueAt: number };
    latencies.push(Date.now() - e.sentAt);
    fromDue.push(Date.now() - e.dueAt);
    received++;
  };
  // A connection reset during its handshake (1,000 connecting at once on a loaded machine; an
  // error without a listener ended the whole run once) is tried again, up to three times.
  const connect = (tries = 1): Promise<WebSocket> =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.on('message', onMessage);
      ws.on('open', () => resolve(ws));
      ws.on('error', (err) => {
        if (ws.readyState === ws.OPEN || ws.readyState === ws.CLOSING) return;
        if (tries < 3) connect(tries + 1).then(resolve, reject);
        else reject(new Error(`a baseline client could not connect: ${err.message}`));
      });
    });
  const sockets = await Promise.all(Array.from({ length: remote ? 0 : subscribers }, () => connect()));
  // The same number of payloads of the same shape, sent on the same timeline (bursts included).
  const start = Date.now();
  const cpuBefore = process.cpuUsage();
  remote?.start();
  const profile = await profileWindow();
  const loop = loopWindow();
  for (let i = 0; i < messages; i++) {
    const wait = start + timeline[i] - Date.now();
    if (wait > 0) await sleep(wait);
    // Behind the timeline, events of different milliseconds (different commits) still come one
    // I/O callback after another, as the server's events do, and the clients read in between.
    // Sent in one synchronous run instead, each burst waited for every send of the events behind
    // it: the baseline's p50 read 37-271 ms instead of 14-17 (see README, Performance).
    else if (i > 0 && timeline[i] !== timeline[i - 1]) await nextTurn();
    const payload = JSON.stringify({
      type: 'next',
      id: '1',
      payload: { data: { projectEvents: { seq: i, createdAt: new Date().toISOString() } } },
      sentAt: Date.now(),
      dueAt: start + timeline[i],
    });
    for (const c of wss.clients) c.send(payload);
  }
  let collected: Collected | null = null;
  if (remote) {
    collected = await remote.collect(messages, 10_000);
    const r = collected.receipts;
    for (let k = 0; k < r.length; k += 3) {
      latencies.push(r[k] - r[k + 1]);
      fromDue.push(r[k] - r[k + 2]);
    }
    received = latencies.length;
  }
  const deadline = Date.now() + 10_000;
  while (received < messages * subscribers && Date.now() < deadline) await sleep(20);
  const loopFigures = loop();
  await profile?.stop(`fanout-${subscribers}-baseline`);
  const cpu = process.cpuUsage(cpuBefore);
  for (const s of sockets) s.close();
  await new Promise((r) => wss.close(r));
  return {
    latencies,
    fromDue,
    lost: messages * subscribers - received,
    loop: loopFigures,
    cpuMsPer1000: (((cpu.user + cpu.system) / 1000 + (collected?.cpuMs ?? 0)) / (messages * subscribers)) * 1000,
  };
}

export async function benchFanout() {
  for (const subscribers of SUBSCRIBER_COUNTS) {
    const ours = await autodevRun(subscribers);
    const base = await bareWsRun(subscribers, ours.timeline);
    printTable(
      `Event fan-out: ${subscribers} subscribers (${CLIENTS_LABEL}), ${JOBS} jobs, ${ours.expected} events each (${ours.expected * subscribers} deliveries)`,
      [
        ['latency p50', percentile(ours.latencies, 50), percentile(base.latencies, 50), 'ms'],
        ['latency p99', percentile(ours.latencies, 99), percentile(base.latencies, 99), 'ms'],
        ['latency max', percentile(ours.latencies, 100), percentile(base.latencies, 100), 'ms'],
      ],
    );
    console.log(
      `AutoDev latency from the event's arrival on the bus (after its job's commit and publish), p50 / p99: ${percentile(ours.fromBus, 50)} / ${percentile(ours.fromBus, 99)} ms (${ours.fromBus.length} deliveries)`,
    );
    console.log(
      `AutoDev latency from the event's insert to its arrival on the bus (its commit, the answer waiting for the event loop, the publish), p50 / p99: ${percentile(ours.toBus, 50)} / ${percentile(ours.toBus, 99)} ms`,
    );
    console.log(
      `This process's event loop in the window (busy share; a 5 ms timer's lateness p50 / p99): AutoDev ${fmt(ours.loop.utilization, 2)}, ${fmt(ours.loop.delayP50)} / ${fmt(ours.loop.delayP99)} ms; baseline ${fmt(base.loop.utilization, 2)}, ${fmt(base.loop.delayP50)} / ${fmt(base.loop.delayP99)} ms`,
    );
    console.log(
      `Baseline latency from the event's moment on the timeline (not its send; it falls behind when it cannot keep up), p50 / p99: ${percentile(base.fromDue, 50)} / ${percentile(base.fromDue, 99)} ms`,
    );
    console.log(`events lost: AutoDev ${ours.lost}, baseline ${base.lost}; duplicated: AutoDev ${ours.duplicated}`);
    console.log(
      `CPU per 1,000 deliveries (server, clients and, for AutoDev, running the jobs): AutoDev ${ours.cpuMsPer1000.toFixed(1)} ms, baseline ${base.cpuMsPer1000.toFixed(1)} ms`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchFanout();
