// Two API processes and two worker processes (AUTODEV_ROLE) on one PostgreSQL and one Redis,
// as a Kubernetes deployment runs them.
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from './auth/tokens.ts';
import { startAutodevProcess, type AutodevProcess } from './test/autodev-process.ts';
import { createTestDatabase, TEST_REDIS_URL } from './test/database.ts';
import { gqlRequest } from './test/harness.ts';
import { SCRIPTED_RUNNER_COMMAND, scriptedTemplate, upsertTemplate } from './test/scripted.ts';
import { createPool } from './db/pool.ts';

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'BUDGET_EXCEEDED', 'REJECTED']);
const JOBS = 200;
const TICKS = 20;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;
const adminToken = generateSecret();
let apiA: AutodevProcess;
let apiB: AutodevProcess;
let workers: AutodevProcess[];
const clients: Client[] = [];

const gql = (api: AutodevProcess, query: string, variables?: Record<string, unknown>) => gqlRequest(api.url!, query, variables, adminToken);

function wsClient(api: AutodevProcess, onClose?: (code: number) => void): Client {
  const client = createClient({
    url: api.url!.replace('http', 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${adminToken}` },
    retryAttempts: 0,
    lazy: true,
    on: { closed: (e) => onClose?.((e as { code: number }).code) },
  });
  clients.push(client);
  return client;
}

async function createJobs(api: AutodevProcess, n: number, input: object): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 20) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(20, n - i) }, () =>
        gql(api, `mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, { input: { templateSlug: 'scripted', input } }),
      ),
    );
    for (const r of batch) {
      if (r.errors) throw new Error(JSON.stringify(r.errors));
      ids.push(r.data.createJob.id);
    }
  }
  return ids;
}

async function storedSeqs(jobId: string): Promise<number[]> {
  const { rows } = await pool.query<{ seq: number }>(`SELECT seq FROM "JobEvent" WHERE "jobId" = $1 ORDER BY seq`, [jobId]);
  return rows.map((r) => r.seq);
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool(db.url, 4);
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    AUTODEV_ADMIN_TOKEN: adminToken,
    AUTODEV_SIGNING_KEY: 'scale-out-signing-key',
    AUTODEV_RUNNER_COMMAND: SCRIPTED_RUNNER_COMMAND,
    AUTODEV_WORKER_CONCURRENCY: '8',
    // Four processes share the test PostgreSQL (max_connections 100) with the other test files.
    AUTODEV_DB_POOL_SIZE: '8',
    AUTODEV_RETRY_BASE_MS: '100',
    AUTODEV_ATTEMPT_LEASE_MS: '5000',
    // One admin token opens all 200 subscriptions (up to ~190 on one API after the kill).
    AUTODEV_MAX_SUBSCRIPTIONS_PER_TOKEN: '1000',
  };
  [apiA, apiB, ...workers] = await Promise.all([
    startAutodevProcess('api', env),
    startAutodevProcess('api', env),
    startAutodevProcess('worker', env),
    startAutodevProcess('worker', env),
  ]);
  await upsertTemplate((q, v) => gql(apiA, q, v), scriptedTemplate('scripted', { timeoutSeconds: 60 }));
}, 120_000);

afterAll(async () => {
  // dispose() may answer void or a promise; await each.
  await Promise.all(
    clients.map(async (c) => {
      await c.dispose();
    }),
  );
  await Promise.all(
    [apiA, apiB, ...(workers ?? [])]
      .filter((p) => p && p.child.exitCode === null && p.child.signalCode === null)
      .map((p) => p.kill('SIGKILL')),
  );
  await pool?.end();
  await db?.drop();
});

describe('2 API processes + 2 worker processes on one PostgreSQL and Redis', () => {
  it(`${JOBS} jobs: subscribers split across both APIs get every event once and in order; an API killed mid-stream loses nothing`, async () => {
    const clientA = wsClient(apiA);
    const clientB = wsClient(apiB);
    type Tracker = { seqs: number[]; on: 'A' | 'B'; resumedAfter?: number; isDone: boolean; done: Promise<void>; finish(): void };
    const failures: string[] = [];
    const trackers = new Map<string, Tracker>();
    let eventsOnA = 0;
    let aKilled = false;

    const subscribe = (jobId: string, client: Client, tracker: Tracker, afterSeq: number) => {
      client.subscribe<{ jobEvents: { seq: number; type: string; toState: string | null } }>(
        {
          query: `subscription($jobId: ID!, $afterSeq: Int) { jobEvents(jobId: $jobId, afterSeq: $afterSeq) { seq type toState } }`,
          variables: { jobId, afterSeq },
        },
        {
          next: ({ data }) => {
            const e = data!.jobEvents;
            tracker.seqs.push(e.seq);
            if (tracker.on === 'A') eventsOnA++;
            // The stream completes by itself after the terminal event (no dispose needed).
            if (e.type === 'STATE_CHANGED' && e.toState && TERMINAL.has(e.toState)) tracker.finish();
          },
          // The connection to A went away: resume on B after the last event held, as a client would.
          error: () => resume(jobId, tracker),
          complete: () => resume(jobId, tracker),
        },
      );
    };
    let finished = 0;
    const resume = (jobId: string, tracker: Tracker) => {
      if (tracker.isDone) return;
      if (tracker.on === 'B' || !aKilled) {
        failures.push(`subscription to ${jobId} on ${tracker.on} ended before the job did`);
        return;
      }
      tracker.on = 'B';
      tracker.resumedAfter = tracker.seqs.at(-1) ?? 0;
      subscribe(jobId, clientB, tracker, tracker.resumedAfter);
    };

    const ids = await createJobs(apiA, JOBS, { script: 'ticks', n: TICKS });
    ids.forEach((id, i) => {
      let finish!: () => void;
      const done = new Promise<void>((r) => (finish = r));
      const tracker: Tracker = {
        seqs: [],
        on: i % 2 === 0 ? 'A' : 'B',
        isDone: false,
        done,
        finish: () => {
          tracker.isDone = true;
          finished++;
          finish();
        },
      };
      trackers.set(id, tracker);
      subscribe(id, i % 2 === 0 ? clientA : clientB, tracker, 0);
    });

    // Kill API A (SIGKILL: no goodbye) once its subscribers are well into their streams.
    const t0 = Date.now();
    while (eventsOnA < 300 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 10));
    const unfinishedOnA = [...trackers.values()].filter((t) => t.on === 'A' && !t.isDone).length;
    aKilled = true;
    await apiA.kill('SIGKILL');

    await Promise.race([
      Promise.all([...trackers.values()].map((t) => t.done)),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`only ${finished}/${JOBS} subscriptions saw their job end; ${failures.join('; ')}`)), 120_000),
      ),
    ]);
    expect(failures).toEqual([]);

    let resumed = 0;
    let events = 0;
    for (const [id, tracker] of trackers) {
      const stored = await storedSeqs(id);
      // Exactly the stored events, each once, in order — across the switch from A to B.
      expect(tracker.seqs).toEqual(stored);
      expect(stored).toEqual(stored.map((_, i) => i + 1));
      if (tracker.resumedAfter !== undefined) resumed++;
      events += stored.length;
    }
    const { rows: states } = await pool.query<{ state: string; n: number }>(`SELECT state, count(*)::int AS n FROM "Job" GROUP BY state`);
    expect(states).toEqual([{ state: 'SUCCEEDED', n: JOBS }]);
    const { rows: byWorker } = await pool.query<{ workerId: string; n: number }>(
      `SELECT "workerId", count(*)::int AS n FROM "JobAttempt" GROUP BY "workerId"`,
    );
    expect(byWorker).toHaveLength(2); // both worker processes ran attempts
    console.log(
      `scale-out: ${JOBS} jobs, ${events} events delivered to ${JOBS} subscriptions; API A killed after ${eventsOnA} of its events, ` +
        `${resumed} of its subscriptions (${unfinishedOnA} unfinished just before) resumed on B with afterSeq; attempts per worker ${byWorker.map((w) => w.n).join(' + ')}`,
    );
    // Mid-stream: some of A's subscriptions had not seen their job end (a few may end between the count and the kill).
    expect(resumed).toBeGreaterThan(0);
    expect(resumed).toBeLessThanOrEqual(unfinishedOnA);
  }, 180_000);

  it('SIGTERM drains: a worker releases its attempts to the other worker and exits 0; an API closes sockets with 1001 and exits 0', async () => {
    const [leaving, staying] = workers;
    // Each job runs ~8 s (400 ticks 20 ms apart), so the attempts the leaving worker holds are
    // mostly still running when the drain releases them (with ~2 s jobs a loaded CI run saw 7 of
    // the 8 released, and with 8 s jobs once more: one had succeeded before SIGTERM; such an
    // attempt is told apart below by its end before the signal).
    const ids = await createJobs(apiB, 16, { script: 'ticks', n: 400 });
    const runningOn = async (pid: number) =>
      (await pool.query(`SELECT count(*)::int AS n FROM "JobAttempt" WHERE state = 'RUNNING' AND "workerId" LIKE $1`, [`%-${pid}-%`]))
        .rows[0].n as number;
    const t0 = Date.now();
    // Until the leaving worker is full (concurrency 8).
    while ((await runningOn(leaving.child.pid!)) < 8 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
    const held = await runningOn(leaving.child.pid!);
    expect(held).toBe(8);
    // The attempts it holds, by id, and the database's clock when the signal leaves: on a loaded
    // machine the worker may fill its eighth slot seconds after its first, and an attempt that
    // finished its ~8 s run on its own before the signal is not one the drain could release.
    const { rows: heldRows } = await pool.query<{ id: string }>(
      `SELECT id FROM "JobAttempt" WHERE state = 'RUNNING' AND "workerId" LIKE $1`,
      [`%-${leaving.child.pid}-%`],
    );
    const { rows: clock } = await pool.query<{ at: Date }>(`SELECT clock_timestamp() AS at`);
    const signalAt = clock[0].at;
    const stopStarted = Date.now();
    expect(await leaving.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const drainMs = Date.now() - stopStarted;

    // Nothing is left RUNNING on the worker that left; every job ends on the other one.
    expect(await runningOn(leaving.child.pid!)).toBe(0);
    const deadline = Date.now() + 90_000;
    for (;;) {
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "Job" WHERE id = ANY($1::uuid[]) AND state = 'SUCCEEDED'`, [ids]);
      if (rows[0].n === ids.length) break;
      if (Date.now() > deadline) throw new Error(`${rows[0].n}/${ids.length} jobs succeeded after the worker left`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // Each attempt it held was released by the drain (FAILED, WORKER_SHUTDOWN), unless it had
    // succeeded before the signal was sent.
    const { rows: ends } = await pool.query<{ state: string; errorCode: string | null; finishedAt: Date }>(
      `SELECT state, "errorCode", "finishedAt" FROM "JobAttempt" WHERE id = ANY($1::uuid[])`,
      [heldRows.map((r) => r.id)],
    );
    expect(ends).toHaveLength(held);
    const released = ends.filter((a) => a.state === 'FAILED' && a.errorCode === 'WORKER_SHUTDOWN');
    const doneBefore = ends.filter((a) => a.state === 'SUCCEEDED' && a.finishedAt <= signalAt);
    expect({ released: released.length, doneBefore: doneBefore.length }).toEqual({
      released: held - doneBefore.length,
      doneBefore: doneBefore.length,
    });
    expect(released.length).toBeGreaterThan(0);
    const { rows: orphaned } = await pool.query(
      `SELECT j.id FROM "Job" j WHERE j.state = 'RUNNING' AND NOT EXISTS (SELECT 1 FROM "JobAttempt" a WHERE a."jobId" = j.id AND a.state = 'RUNNING')`,
    );
    expect(orphaned).toEqual([]);
    expect(staying.child.exitCode).toBeNull();

    // The API: an open subscription is closed with 1001 Going Away, then the process exits 0.
    let closeCode: number | undefined;
    const client = wsClient(apiB, (code) => (closeCode ??= code));
    const connected = new Promise<void>((resolve) => client.on('connected', () => resolve()));
    const ended = new Promise<void>((resolve) =>
      client.subscribe(
        { query: `subscription { projectEvents { seq } }` },
        { next: () => {}, error: () => resolve(), complete: () => resolve() },
      ),
    );
    // The socket is open and acknowledged (a signal before that closes a connecting socket, 1006);
    // a refused connection ends the subscription instead, and the close code below says so.
    await Promise.race([connected, ended]);
    expect(await apiB.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    await ended;
    expect(closeCode).toBe(1001);
    console.log(
      `drain: a worker holding ${held} attempts (${doneBefore.length} done before the signal) stopped in ${drainMs} ms; they finished on the other worker; the API closed its socket with ${closeCode}`,
    );
  }, 180_000);
});
