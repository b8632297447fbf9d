// 200 jobs on two worker processes, one of which is killed with SIGKILL 20 times mid-run (and
// started again each time): every job must end, within its attempts, each charge counted once,
// and no job may ever run on two workers at once.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAutodevProcess, type AutodevProcess } from '../test/autodev-process.ts';
import { createTestDatabase, TEST_REDIS_URL } from '../test/database.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { SCRIPTED_RUNNER_COMMAND, scriptedTemplate, upsertTemplate } from '../test/scripted.ts';
import { createPool } from '../db/pool.ts';

const JOBS = 200;
const KILLS = 20;
const CHARGES = 30; // 3 s per attempt: the run lasts long enough for 20 kills mid-attempt, even on a loaded machine
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;
let t: TestServer;
const workers: AutodevProcess[] = [];
let workerEnv: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool(db.url, 3);
  t = await startTestServer({
    databaseUrl: db.url,
    redisUrl: TEST_REDIS_URL,
    env: { AUTODEV_RATE_LIMIT_MUTATIONS_PER_MINUTE: '100000', AUTODEV_DB_POOL_SIZE: '6' },
  });
  workerEnv = {
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    AUTODEV_ADMIN_TOKEN: t.adminToken,
    AUTODEV_RUNNER_COMMAND: SCRIPTED_RUNNER_COMMAND,
    AUTODEV_WORKER_CONCURRENCY: '8',
    // Killed workers' connections linger a moment; the test PostgreSQL (max_connections 100) is shared.
    AUTODEV_DB_POOL_SIZE: '8',
    AUTODEV_RETRY_BASE_MS: '100',
    AUTODEV_ATTEMPT_LEASE_MS: '2000',
  };
  workers.push(...(await Promise.all([startAutodevProcess('worker', workerEnv), startAutodevProcess('worker', workerEnv)])));
  await upsertTemplate(t.gql, scriptedTemplate('paced', { timeoutSeconds: 60, description: 'Charges $0.01 n times, 100 ms apart' }));
}, 120_000);

afterAll(async () => {
  await Promise.all(workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null).map((w) => w.kill('SIGKILL')));
  await t?.close();
  await pool?.end();
  await db?.drop();
});

describe('kill -9 storm', () => {
  it(`${KILLS} SIGKILLs over ${JOBS} jobs: all end, attempts ≤ maxAttempts, no double charge, never two workers on one job`, async () => {
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i += 25) {
      const batch = await Promise.all(
        Array.from({ length: 25 }, () =>
          t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
            input: { templateSlug: 'paced', input: { script: 'paced-usage', n: CHARGES } },
          }),
        ),
      );
      for (const r of batch) ids.push(r.data.createJob.id);
    }
    let killsWithAttempts = 0;
    // A killed worker restarts in the background while the other one is killed next: waiting for each
    // restart (a few seconds) let the queue drain before the last kills on a slow start.
    const restarting: (Promise<AutodevProcess> | null)[] = [null, null];
    for (let k = 0; k < KILLS; k++) {
      const slot = k % 2;
      if (restarting[slot]) workers[slot] = await restarting[slot];
      const victim = workers[slot];
      // Mid-attempt: wait (up to 15 s: a restarted worker takes a few seconds to start) until the victim holds attempts.
      const holding = async () =>
        (
          await pool.query(`SELECT count(*)::int AS n FROM "JobAttempt" WHERE state = 'RUNNING' AND "workerId" LIKE $1`, [
            `%-${victim.child.pid}-%`,
          ])
        ).rows[0].n as number;
      const waitStart = Date.now();
      while ((await holding()) === 0 && Date.now() - waitStart < 15_000) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      if ((await holding()) > 0) killsWithAttempts++;
      await victim.kill('SIGKILL');
      restarting[slot] = startAutodevProcess('worker', workerEnv);
    }
    for (const [slot, p] of restarting.entries()) if (p) workers[slot] = await p;

    const deadline = Date.now() + 120_000;
    for (;;) {
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "Job" WHERE state IN ('QUEUED', 'RUNNING')`);
      if (rows[0].n === 0) break;
      if (Date.now() > deadline) {
        const stuck = (
          await pool.query(
            `SELECT j.id, j.state, j."attemptCount", (SELECT json_agg(json_build_object('n', a.number, 's', a.state, 'w', a."workerId", 'hb', a."heartbeatAt", 'e', a."errorCode")) FROM "JobAttempt" a WHERE a."jobId" = j.id) AS attempts FROM "Job" j WHERE j.state IN ('QUEUED', 'RUNNING')`,
          )
        ).rows;
        const queue = (await pool.query(`SELECT id, payload, run_at, attempts, locked_at, locked_by FROM graphile_worker._private_jobs`))
          .rows;
        throw new Error(
          `${rows[0].n} jobs still not finished: ${JSON.stringify(stuck)} queue: ${JSON.stringify(queue)} alive workers: ${workers.map((w) => w.child.pid).join(',')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }

    const states = (
      await pool.query<{ state: string; n: number }>(`SELECT state, count(*)::int AS n FROM "Job" GROUP BY state ORDER BY state`)
    ).rows;
    const attempts = (
      await pool.query(
        `SELECT "jobId", number, state, "startedAt", "finishedAt", "costUsd"::float AS cost FROM "JobAttempt" ORDER BY "jobId", number`,
      )
    ).rows;
    // Every job terminal, within its attempts.
    expect(states.every((s) => ['SUCCEEDED', 'FAILED'].includes(s.state))).toBe(true);
    const perJob = new Map<string, any[]>();
    for (const a of attempts) perJob.set(a.jobId, [...(perJob.get(a.jobId) ?? []), a]);
    expect(perJob.size).toBe(JOBS);
    for (const list of perJob.values()) {
      expect(list.length).toBeLessThanOrEqual(3);
      expect(list.map((a) => a.number)).toEqual(list.map((_, i) => i + 1));
      // Never two at once: each attempt ended before the next began.
      for (let i = 1; i < list.length; i++) expect(list[i].startedAt >= list[i - 1].finishedAt).toBe(true);
      expect(list.filter((a) => a.state === 'SUCCEEDED').length).toBeLessThanOrEqual(1);
    }
    // No charge counted twice: per attempt at most CHARGES usage records, a succeeded attempt exactly CHARGES,
    // and every cost (attempt, job) equals the sum of its usage records.
    const usage = (await pool.query(`SELECT "attemptId", count(*)::int AS n FROM "UsageRecord" GROUP BY "attemptId"`)).rows;
    expect(usage.every((u) => u.n <= CHARGES)).toBe(true);
    const mismatched = (
      await pool.query(
        `SELECT a.id FROM "JobAttempt" a WHERE a."costUsd" <> (SELECT coalesce(sum(u."costUsd"), 0) FROM "UsageRecord" u WHERE u."attemptId" = a.id)
         UNION ALL
         SELECT j.id FROM "Job" j WHERE j."costUsd" <> (SELECT coalesce(sum(u."costUsd"), 0) FROM "UsageRecord" u WHERE u."jobId" = j.id)`,
      )
    ).rows;
    expect(mismatched).toEqual([]);
    // Nothing is left on the queue: every entry ran or was released and ran.
    const leftover = (
      await pool.query(
        `SELECT attempts, max_attempts, last_error, run_at < now() AS due, locked_by IS NOT NULL AS locked FROM graphile_worker._private_jobs`,
      )
    ).rows;
    expect(
      leftover.filter((q) => !q.locked),
      JSON.stringify(leftover.slice(0, 5)),
    ).toEqual([]);
    const succeededAttempts = (
      await pool.query(
        `SELECT a.id, (SELECT count(*)::int FROM "UsageRecord" u WHERE u."attemptId" = a.id) AS n FROM "JobAttempt" a WHERE a.state = 'SUCCEEDED'`,
      )
    ).rows;
    expect(succeededAttempts.every((a) => a.n === CHARGES)).toBe(true);
    const lost = attempts.filter((a) => a.state === 'LOST').length;
    console.log(
      `kill storm: ${KILLS} SIGKILLs (${killsWithAttempts} while the victim held attempts) over ${JOBS} jobs; final states ${JSON.stringify(Object.fromEntries(states.map((s) => [s.state, s.n])))}; ` +
        `${attempts.length} attempts, ${lost} LOST and retried; 0 jobs lost, 0 double charges, 0 overlapping attempts`,
    );
    expect(lost).toBeGreaterThan(0);
    expect(killsWithAttempts).toBeGreaterThanOrEqual(KILLS - 2); // the last kills may find the queue drained
  }, 300_000);
});
