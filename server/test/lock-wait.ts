import type pg from 'pg';
import { expect } from 'vitest';

/**
 * Resolves once a statement of this test's database whose text starts with `textStart` waits for a
 * lock (pg_stat_activity): a race a test sets up has reached the point it is about. Other test
 * files' databases on the same PostgreSQL are not counted.
 */
export async function untilWaitingForLock(pool: pg.Pool, textStart: string): Promise<void> {
  await expect
    .poll(
      async () =>
        (
          await pool.query(
            `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND starts_with(query, $1)`,
            [textStart],
          )
        ).rowCount,
      { timeout: 10_000, interval: 20 },
    )
    .toBe(1);
}
