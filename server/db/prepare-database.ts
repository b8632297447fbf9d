import { Logger as WorkerLogger, runMigrations as runWorkerMigrations } from 'graphile-worker';
import type pg from 'pg';
import { applyMigrations } from './migrate.ts';

const silent = new WorkerLogger(() => () => {});

/** Our schema (prisma/migrations) and graphile-worker's queue schema, both idempotent. */
export async function prepareDatabase(pool: pg.Pool): Promise<string[]> {
  const applied = await applyMigrations(pool);
  await runWorkerMigrations({ pgPool: pool, logger: silent });
  return applied;
}
