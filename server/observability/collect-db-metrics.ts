import type pg from 'pg';
import type { Metrics } from './metrics.ts';

/** Refreshes the gauges that live in the database (jobs, queue, budgets, waits for input) right before a scrape. */
export async function collectDbMetrics(pool: pg.Pool, m: Metrics): Promise<void> {
  const [jobs, queue, budgets, waits] = await Promise.all([
    pool.query<{ state: string; template: string; n: number }>(
      `SELECT j.state, t.slug AS template, count(*)::int AS n FROM "Job" j JOIN "Template" t ON t.id = j."templateId" GROUP BY 1, 2`,
    ),
    pool.query<{ depth: number; oldest: number }>(
      `SELECT count(*)::int AS depth, COALESCE(EXTRACT(EPOCH FROM now() - min(run_at)), 0)::float AS oldest
       FROM graphile_worker._private_jobs WHERE locked_at IS NULL AND run_at <= now() AND attempts < max_attempts`,
    ),
    pool.query<{ project: string; spent: number; limit: number; remaining: number }>(
      `SELECT p.slug AS project, b."spentUsd" AS spent, b."limitUsd" AS limit, greatest(0, b."limitUsd" - b."spentUsd") AS remaining
       FROM "Budget" b JOIN "Project" p ON p.id = b."projectId"`,
    ),
    // Asked when the job entered AWAITING_INPUT (its inputRequest.askedAt).
    pool.query<{ oldest: number }>(
      `SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(("inputRequest"->>'askedAt')::timestamptz)), 0)::float AS oldest
       FROM "Job" WHERE state = 'AWAITING_INPUT'`,
    ),
  ]);
  m.jobs.reset();
  for (const row of jobs.rows) m.jobs.set({ state: row.state, template: row.template }, row.n);
  m.queueDepth.set(queue.rows[0].depth);
  m.queueOldestAge.set(queue.rows[0].oldest);
  m.inputWaitOldestAge.set(waits.rows[0].oldest);
  for (const b of budgets.rows) {
    m.budgetSpent.set({ project: b.project }, b.spent);
    m.budgetLimit.set({ project: b.project }, b.limit);
    m.budgetRemaining.set({ project: b.project }, b.remaining); // subtracted exactly, in SQL
  }
}
