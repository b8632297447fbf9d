// 1. Job lifecycle throughput: createJob → worker → attempt → events → SUCCEEDED, versus raw
//    graphile-worker (addJob + a no-op task) at the same concurrency, on the same database.
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import { createTestDatabase } from '../server/test/database.ts';
import { startTestServer } from '../server/test/harness.ts';
import { BENCH_LIMITS, addMinimalTemplate, createJobs, pool, printTable, waitForTerminal } from './lib.ts';
import { createPool } from '../server/db/pool.ts';

const N = Number(process.env.BENCH_JOBS ?? 300);
const CONCURRENCY = 8;
const silent = new Logger(() => () => {});

export async function benchLifecycle() {
  const db = await createTestDatabase();
  try {
    const t = await startTestServer({
      databaseUrl: db.url,
      role: 'all',
      env: { ...BENCH_LIMITS, AUTODEV_EXECUTOR: 'inline', AUTODEV_WORKER_CONCURRENCY: String(CONCURRENCY) },
    });
    await addMinimalTemplate(t);
    await waitForTerminal(t, await createJobs(t, 10, CONCURRENCY, 1_000_000)); // warm-up
    const started = performance.now();
    const ids = await createJobs(t, N, CONCURRENCY);
    await waitForTerminal(t, ids);
    const ours = N / ((performance.now() - started) / 1000);
    const { rows } = await t.app.services.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "JobEvent" WHERE "jobId" = ANY($1)`, [
      ids,
    ]);
    await t.close();

    const pgPool = createPool(db.url, 20);
    pgPool.on('error', () => {});
    const utils = await makeWorkerUtils({ pgPool, logger: silent });
    let done = 0;
    const runner = await run({
      pgPool,
      concurrency: CONCURRENCY,
      noHandleSignals: true,
      logger: silent,
      pollInterval: 1000,
      taskList: {
        noop: () => {
          done++;
        },
      },
    });
    const baseStart = performance.now();
    await pool(Array.from({ length: N }), CONCURRENCY, async (_, i) => {
      await utils.addJob('noop', { n: i });
    });
    while (done < N) await new Promise((r) => setTimeout(r, 5));
    const base = N / ((performance.now() - baseStart) / 1000);
    await runner.stop();
    await utils.release();
    await pgPool.end();

    printTable(`Job lifecycle throughput (${N} jobs, concurrency ${CONCURRENCY}, inline executor, offline provider)`, [
      ['jobs per second', ours, base, 'jobs/s'],
    ]);
    console.log(`(${rows[0].n / N} events stored per AutoDev job; the baseline task does nothing and stores nothing)`);
  } finally {
    await db.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchLifecycle();
