// A schedule every second for 10 s on two worker processes (real graphile-worker runners, one
// PostgreSQL): one job per tick, none twice, even when a tick is delivered several times at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAutodevProcess, type AutodevProcess } from '../test/autodev-process.ts';
import { createTestDatabase } from '../test/database.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { SCRIPTED_RUNNER_COMMAND, scriptedTemplate, upsertTemplate } from '../test/scripted.ts';

const WINDOW_S = 10;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let api: TestServer;
let workers: AutodevProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startTestServer({ role: 'api', databaseUrl: db.url }); // migrates the database
  const env = {
    DATABASE_URL: db.url,
    AUTODEV_ADMIN_TOKEN: api.adminToken,
    AUTODEV_SIGNING_KEY: 'test-signing-key',
    AUTODEV_RUNNER_COMMAND: SCRIPTED_RUNNER_COMMAND,
    AUTODEV_WORKER_CONCURRENCY: '2',
    AUTODEV_DB_POOL_SIZE: '6',
  };
  workers = await Promise.all([startAutodevProcess('worker', env), startAutodevProcess('worker', env)]);
  await upsertTemplate(api.gql, scriptedTemplate('scripted'));
}, 400_000);

afterAll(async () => {
  await Promise.all(workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null).map((w) => w.kill('SIGKILL')));
  await api?.close();
  await db?.drop();
});

async function until(what: string, cond: () => Promise<boolean>) {
  const started = Date.now();
  while (!(await cond())) {
    if (Date.now() - started > 90_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a schedule on two worker processes', () => {
  it(`every second for ${WINDOW_S} s: ${WINDOW_S} ± 1 jobs, no tick twice, also with a tick delivered four times at once`, async () => {
    const pool = api.app.services.pool;
    const created = await api.gql(`mutation($input: ScheduleInput!) { createSchedule(input: $input) { id nextRunAt } }`, {
      input: { templateSlug: 'scripted', input: { script: 'ok' }, cron: '* * * * * *', timezone: 'Europe/Berlin' },
    });
    expect(created.errors).toBeUndefined();
    const { id, nextRunAt } = created.data.createSchedule as { id: string; nextRunAt: string };
    const first = new Date(nextRunAt).getTime();
    const end = first + WINDOW_S * 1000;

    // The same tick (3 s in) delivered three more times, unkeyed, so both processes run copies concurrently.
    const duplicated = new Date(first + 3000).toISOString();
    for (let i = 0; i < 3; i++) {
      await pool.query(`SELECT graphile_worker.add_job('scheduleTick', $1::json, run_at := $2)`, [
        JSON.stringify({ scheduleId: id, at: duplicated, version: 1 }),
        duplicated,
      ]);
    }

    const ticksThrough = async (ms: number) =>
      (await pool.query(`SELECT 1 FROM "ScheduleTick" WHERE "scheduleId" = $1 AND "scheduledAt" >= $2 LIMIT 1`, [id, new Date(ms)])).rows
        .length > 0;
    await until(`a tick at or after ${new Date(end).toISOString()}`, () => ticksThrough(end));
    const paused = await api.gql(`mutation($id: ID!) { updateSchedule(id: $id, input: { paused: true }) { paused } }`, { id });
    expect(paused.errors).toBeUndefined();

    const { rows: ticks } = await pool.query<{ scheduledAt: Date; jobId: string | null; error: string | null; lateMs: number }>(
      `SELECT "scheduledAt", "jobId", error, (extract(epoch FROM "createdAt" - "scheduledAt") * 1000)::int AS "lateMs"
       FROM "ScheduleTick" WHERE "scheduleId" = $1 ORDER BY "scheduledAt"`,
      [id],
    );
    const { rows: jobs } = await pool.query<{ id: string; idempotencyKey: string }>(
      `SELECT id, "idempotencyKey" FROM "Job" WHERE "createdBy" = $1`,
      [`schedule ${id}`],
    );
    const inWindow = ticks.filter((t) => t.scheduledAt.getTime() >= first && t.scheduledAt.getTime() < end && t.jobId);
    const late = ticks.map((t) => t.lateMs).sort((a, b) => a - b);
    console.log(
      `schedule every second on 2 worker processes: ${inWindow.length} jobs for the ${WINDOW_S} s from ${new Date(first).toISOString()}; ` +
        `${jobs.length} jobs and ${ticks.length} ticks in all; tick recorded after its time: median ${late[Math.floor(late.length / 2)]} ms, max ${late.at(-1)} ms`,
    );
    // Every tick task ran without failing (a retried tick would hide behind the idempotency key).
    expect(
      workers
        .map((w) => w.output())
        .join('')
        .match(/.*(schedules|scheduleTick).*/g) ?? [],
    ).toEqual([]);
    expect(inWindow.length).toBeGreaterThanOrEqual(WINDOW_S - 1);
    expect(inWindow.length).toBeLessThanOrEqual(WINDOW_S + 1);
    // No tick twice: one job per tick, each job named by one tick, the duplicated tick included.
    expect(ticks.every((t) => t.jobId && !t.error)).toBe(true);
    expect(new Set(jobs.map((j) => j.idempotencyKey)).size).toBe(jobs.length);
    expect(jobs.length).toBe(ticks.length);
    expect(new Set(ticks.map((t) => t.jobId)).size).toBe(ticks.length);
    expect(jobs.filter((j) => j.idempotencyKey === `schedule:${id}:${duplicated}`)).toHaveLength(1);
    // Paused: no pending tick is left.
    expect((await pool.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE key = $1`, [`schedule:${id}`])).rows[0].n).toBe(0);
  }, 180_000);
});
