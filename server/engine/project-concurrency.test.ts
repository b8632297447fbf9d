// Per-project concurrency and fair queues (issue 14, part 3), on real PostgreSQL and two real
// worker processes (graphile-worker, inline executor, offline model): one project's flood does not
// hold back another project's jobs, a project's limit holds across both workers, and a killed
// worker's attempt gives its slot back.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAutodevProcess, type AutodevProcess } from '../test/autodev-process.ts';
import { createTestDatabase } from '../test/database.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { minimalTemplate } from '../test/minimal-template.ts';
import { createPool } from '../db/pool.ts';

const WORKERS = 2;
const CONCURRENCY = 4;
const TEMPLATE = minimalTemplate('one-line', 'One line');
const CREATE_JOB = `mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;
let t: TestServer;
let workers: AutodevProcess[] = [];
const workerEnv = (extra: Record<string, string> = {}) => ({
  DATABASE_URL: db.url,
  AUTODEV_ADMIN_TOKEN: t.adminToken,
  AUTODEV_EXECUTOR: 'inline',
  AUTODEV_WORKER_CONCURRENCY: String(CONCURRENCY),
  AUTODEV_DB_POOL_SIZE: '8',
  AUTODEV_ATTEMPT_LEASE_MS: '2000',
  AUTODEV_VALIDATION_TIMEOUT_MS: '30000',
  ...extra,
});
const startWorkers = async (extra: Record<string, string> = {}) => {
  workers = await Promise.all(Array.from({ length: WORKERS }, () => startAutodevProcess('worker', workerEnv(extra))));
};

/** A project with its own ADMIN token and the test template. */
async function newProject(slug: string): Promise<{ id: string; token: string }> {
  const res = await t.gql(`mutation($input: ProjectInput!) { createProject(input: $input) { project { id } adminToken { secret } } }`, {
    input: { slug, name: slug },
  });
  expect(res.errors).toBeUndefined();
  const token = res.data.createProject.adminToken.secret as string;
  const up = await t.gql(`mutation($input: TemplateInput!) { upsertTemplate(input: $input) { slug } }`, { input: TEMPLATE }, token);
  expect(up.errors).toBeUndefined();
  return { id: res.data.createProject.project.id, token };
}

async function createJobs(token: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 25) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(25, n - i) }, (_, k) =>
        t.gql(CREATE_JOB, { input: { templateSlug: 'one-line', input: { n: i + k } } }, token),
      ),
    );
    for (const r of batch) {
      expect(r.errors).toBeUndefined();
      ids.push(r.data.createJob.id);
    }
  }
  return ids;
}

async function waitForStates(ids: string[], states: string[], timeoutMs = 240_000) {
  const count = async () =>
    (await pool.query(`SELECT count(*)::int AS n FROM "Job" WHERE id = ANY($1) AND state = ANY($2)`, [ids, states])).rows[0].n as number;
  await expect
    .poll(count, { timeout: timeoutMs, interval: 200 })
    .toBe(ids.length)
    .catch(async (err: unknown) => {
      // Say where the others are: their state, their attempts, their queue entries and last events
      // (a failing query must not hide the timeout itself).
      const { rows } = await pool
        .query(
          `SELECT j.id, j.state, j.version, j."attemptCount", j."slotWaitSince",
              (SELECT json_agg(json_build_object('n', a.number, 'state', a.state, 'worker', a."workerId", 'started', a."startedAt",
                                                 'heartbeat', a."heartbeatAt", 'error', a."errorCode") ORDER BY a.number)
                 FROM "JobAttempt" a WHERE a."jobId" = j.id) AS attempts,
              (SELECT json_agg(json_build_object('attempts', q.attempts, 'locked_by', q.locked_by, 'locked_at', q.locked_at,
                                                 'run_at', q.run_at, 'last_error', q.last_error))
                 FROM graphile_worker._private_jobs q WHERE q.payload->>'jobId' = j.id::text) AS queue,
              (SELECT json_agg(json_build_object('seq', e.seq, 'type', e.type, 'message', e.message, 'at', e."createdAt") ORDER BY e.seq)
                 FROM "JobEvent" e WHERE e."jobId" = j.id) AS events
       FROM "Job" j WHERE j.id = ANY($1) AND NOT (j.state = ANY($2)) LIMIT 5`,
          [ids, states],
        )
        .catch((queryError: unknown) => ({ rows: [`(the diagnostic query failed: ${String(queryError)})`] }));
      const logs = workers.map((w, i) => `worker ${i + 1}'s warnings and errors:\n${w.output().slice(-4000)}`).join('\n');
      throw new Error(`${String(err)}\nJobs not ${states.join('/')}: ${JSON.stringify(rows, null, 1)}\n${logs}`);
    });
}

/** The most attempts of the given jobs that ran at the same instant, from their start and end times. */
async function maxOverlap(ids: string[]): Promise<number> {
  const { rows } = await pool.query<{ startedAt: Date; finishedAt: Date }>(
    `SELECT "startedAt", "finishedAt" FROM "JobAttempt" WHERE "jobId" = ANY($1)`,
    [ids],
  );
  const edges = rows.flatMap((r) => [
    { at: r.startedAt.getTime(), d: 1 },
    { at: r.finishedAt.getTime(), d: -1 },
  ]);
  // An end at the same millisecond as a start counts first: the slot was handed over.
  edges.sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const e of edges) max = Math.max(max, (now += e.d));
  return max;
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool(db.url, 3);
  t = await startTestServer({
    databaseUrl: db.url,
    role: 'api',
    env: { AUTODEV_RATE_LIMIT_MUTATIONS_PER_MINUTE: '1000000', AUTODEV_VALIDATION_TIMEOUT_MS: '30000' },
  });
  // Every model call takes 400 ms: a job runs long enough for attempts to overlap, and 8 slots
  // drain at most 20 jobs a second, so a flood stays queued for a while.
  await startWorkers({ AUTODEV_OFFLINE_DELAY_MS: '400' });
}, 400_000);

afterAll(async () => {
  await Promise.all(workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null).map((w) => w.kill('SIGKILL')));
  await t?.close();
  await pool?.end();
  await db?.drop();
});

describe('fair queues', () => {
  it(`project A enqueues 500 jobs, project B 5 after: B's 5 start within the next ${WORKERS * CONCURRENCY + 10} starts`, async () => {
    const a = await newProject('flood-a');
    const b = await newProject('flood-b');
    const aIds = await createJobs(a.token, 500);
    const bIds = await createJobs(b.token, 5);
    await waitForStates([...aIds, ...bIds], ['SUCCEEDED']);

    const bCreated = (await pool.query(`SELECT min("createdAt") AS at FROM "Job" WHERE id = ANY($1)`, [bIds])).rows[0].at as Date;
    const { rows } = await pool.query<{ jobId: string; startedAt: Date; createdAt: Date }>(
      `SELECT a."jobId", a."startedAt", j."createdAt" FROM "JobAttempt" a JOIN "Job" j ON j.id = a."jobId" WHERE a."jobId" = ANY($1) ORDER BY a."startedAt", a.id`,
      [[...aIds, ...bIds]],
    );
    expect(rows).toHaveLength(505); // one attempt each: nothing retried
    // What B's jobs found: A's jobs created but not started yet when B's first job came.
    const backlog = rows.filter((r) => aIds.includes(r.jobId) && r.startedAt > bCreated).length;
    const after = rows.filter((r) => r.startedAt >= bCreated);
    const positions = after.flatMap((r, i) => (bIds.includes(r.jobId) ? [i + 1] : []));
    const bStarts = rows.filter((r) => bIds.includes(r.jobId));
    const aLast = rows.filter((r) => aIds.includes(r.jobId)).at(-1)!.startedAt;
    console.log(
      `fair queues: ${backlog} of A's 500 jobs were waiting when B's came; B's 5 started at positions ${positions.join(', ')} of the ${after.length} starts after that, ` +
        `${bStarts.map((r) => ((r.startedAt.getTime() - r.createdAt.getTime()) / 1000).toFixed(1)).join(', ')} s after their createJob; ` +
        `A's last job started ${((aLast.getTime() - bCreated.getTime()) / 1000).toFixed(1)} s after B's first was created`,
    );
    // The flood was still queued (else the test proves nothing), and B did not wait for it.
    expect(backlog).toBeGreaterThan(100);
    expect(positions).toHaveLength(5);
    expect(Math.max(...positions)).toBeLessThanOrEqual(WORKERS * CONCURRENCY + 10);
  }, 400_000);
});

describe('a project limit on running attempts', () => {
  it('10 queued jobs under a limit of 2 on two workers: never more than 2 running at once, all 10 SUCCEEDED, one attempt each', async () => {
    const p = await newProject('limited');
    for (const bad of [0, -1, 1001]) {
      const refused = await t.gql(`mutation($n: Int) { setMaxRunningAttempts(maxRunningAttempts: $n) { id } }`, { n: bad }, p.token);
      expect(refused.errors?.[0]).toMatchObject({
        extensions: { code: 'BAD_USER_INPUT', field: 'maxRunningAttempts' },
        message: expect.stringMatching(/from 1 to 1000/),
      });
    }
    const set = await t.gql(
      `mutation { setMaxRunningAttempts(maxRunningAttempts: 2) { maxRunningAttempts effectiveMaxRunningAttempts } }`,
      {},
      p.token,
    );
    expect(set.data.setMaxRunningAttempts).toEqual({ maxRunningAttempts: 2, effectiveMaxRunningAttempts: 2 });
    // Sample the running count as attempts start, besides the start and end times checked below.
    let sampled = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await pool.query(
          `SELECT count(*)::int AS n FROM "JobAttempt" a JOIN "Job" j ON j.id = a."jobId" WHERE j."projectId" = $1 AND a.state = 'RUNNING'`,
          [p.id],
        );
        sampled = Math.max(sampled, rows[0].n);
        await new Promise((r) => setImmediate(r));
      }
    })();
    const ids = await createJobs(p.token, 10);
    await waitForStates(ids, ['SUCCEEDED']);
    sampling = false;
    await sampler;

    const overlap = await maxOverlap(ids);
    const { rows } = await pool.query(`SELECT "attemptCount" FROM "Job" WHERE id = ANY($1)`, [ids]);
    console.log(`limit 2: at most ${overlap} attempts overlapped (start/end times), at most ${sampled} RUNNING in samples`);
    expect(overlap).toBeLessThanOrEqual(2);
    expect(sampled).toBeLessThanOrEqual(2);
    expect(rows.map((r) => r.attemptCount)).toEqual(Array(10).fill(1));
  }, 300_000);

  it('a worker killed mid-attempt does not keep its slot: the lost-attempt sweep gives it to the waiting job', async () => {
    const p = await newProject('killed');
    await t.gql(`mutation { setMaxRunningAttempts(maxRunningAttempts: 1) { id } }`, {}, p.token);
    // 25 tasks of 400 ms: long enough to kill its worker mid-attempt.
    const tasks = Array.from({ length: 25 }, (_, i) => ({
      id: `t${i}`,
      description: 'Write one line',
      expectedOutput: 'A line',
      agent: 'writer',
    }));
    const slow = await t.gql(
      `mutation($input: TemplateInput!) { upsertTemplate(input: $input) { slug } }`,
      { input: { ...TEMPLATE, slug: 'slow', crew: { ...TEMPLATE.crew, tasks } } },
      p.token,
    );
    expect(slow.errors).toBeUndefined();
    const victim = (await t.gql(CREATE_JOB, { input: { templateSlug: 'slow', input: { n: 0 } } }, p.token)).data.createJob.id as string;
    await expect
      .poll(async () => (await pool.query(`SELECT count(*)::int AS n FROM "JobAttempt" WHERE "jobId" = $1`, [victim])).rows[0].n, {
        timeout: 60_000,
      })
      .toBe(1);
    const [waiting] = await createJobs(p.token, 1);
    // The project's one slot is taken: the job stays QUEUED, waiting for it, with no attempt.
    await expect
      .poll(
        async () =>
          (await pool.query(`SELECT "slotWaitSince" IS NOT NULL AS w, state, "attemptCount" FROM "Job" WHERE id = $1`, [waiting])).rows[0],
        { timeout: 60_000 },
      )
      .toEqual({ w: true, state: 'QUEUED', attemptCount: 0 });
    const { workerId } = (await pool.query(`SELECT "workerId" FROM "JobAttempt" WHERE "jobId" = $1`, [victim])).rows[0];
    const running = workers.find((w) => workerId.includes(`-${w.child.pid}-`))!;
    expect(running).toBeDefined();
    await running.kill('SIGKILL');
    // maxAttempts 1: the lost job FAILS, so only the slot its attempt gives back can start the other.
    await waitForStates([victim], ['FAILED'], 60_000);
    await waitForStates([waiting], ['SUCCEEDED'], 60_000);
    const lost = await pool.query(`SELECT state, "errorCode" FROM "JobAttempt" WHERE "jobId" = $1`, [victim]);
    expect(lost.rows).toEqual([{ state: 'LOST', errorCode: 'WORKER_LOST' }]);
  }, 300_000);
});
