// The schedule-tick runner does not look for ticks when other work is queued: graphile-worker
// notifies every runner of every entry added, and each notification sent an idle tick worker to run
// get_job (one statement per job created, in every worker process).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { recordStatements } from '../test/count-statements.ts';
import { startTickRunner } from './tick-runner.ts';
import { RUN_ATTEMPT_TASK } from '../jobs/enqueue-run.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer(); // API only: no runner of its own
});
afterAll(async () => {
  await t?.close();
});

const GET_JOB = /^with j as \( select jobs\.job_queue_id/i;

it('entries added for other tasks do not make the tick runner look for a tick (it polls once a second)', async () => {
  const ticks = await startTickRunner(t.app.services);
  try {
    // Its listen client has dropped jobs:insert (its last statement, kept while it idles). Its
    // workers' first looks, if they fall in the window below, are within the bound's slack.
    await expect
      .poll(
        async () =>
          (
            await t.app.services.pool.query(
              `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query = 'UNLISTEN "jobs:insert"'`,
            )
          ).rows[0].n,
        { message: 'the tick runner\'s listen client dropped "jobs:insert"' },
      )
      .toBe(1);
    const log = recordStatements();
    const started = Date.now();
    try {
      for (let i = 0; i < 40; i++) {
        await t.app.services.pool.query(`SELECT graphile_worker.add_job($1, json_build_object('jobId', $2::text))`, [
          RUN_ATTEMPT_TASK,
          `none-${i}`,
        ]);
        await new Promise((r) => setTimeout(r, 10));
      }
      // Long enough for each of its two workers to poll at least once (every second).
      await new Promise((r) => setTimeout(r, 1_500));
    } finally {
      log.stop();
    }
    const seconds = (Date.now() - started) / 1000;
    const lookups = log.texts.filter((text) => GET_JOB.test(text)).length;
    console.log(`tick runner: ${lookups} get_job over ${seconds.toFixed(1)} s while 40 entries of another task were added`);
    // Its two workers' polls (one a second each, plus one more each for the window's edges), not one
    // per entry; and it does poll.
    expect(lookups).toBeLessThanOrEqual(2 * Math.ceil(seconds) + 2);
    expect(lookups).toBeGreaterThanOrEqual(1);
  } finally {
    await ticks.stop();
    await t.app.services.pool.query(`DELETE FROM graphile_worker._private_jobs`);
  }
}, 60_000);
