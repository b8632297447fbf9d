import type { Pool } from 'pg';

export interface SpendBucket {
  /** The UTC day, YYYY-MM-DD. */
  day: string;
  model: string;
  templateSlug: string;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  charges: number;
}

/** The project's recorded spend per UTC day, model and template over the last `days` days. */
export async function spendReport(pool: Pool, projectId: string, days: number): Promise<SpendBucket[]> {
  // pg returns int8 sums as strings.
  const { rows } = await pool.query<Omit<SpendBucket, 'inputTokens' | 'outputTokens'> & { inputTokens: string; outputTokens: string }>(
    `SELECT to_char(u."createdAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, u.model, t.slug AS "templateSlug",
            sum(u."costUsd")::float8 AS "costUsd", sum(u."inputTokens")::int8 AS "inputTokens",
            sum(u."outputTokens")::int8 AS "outputTokens", count(*)::int AS charges
       FROM "UsageRecord" u JOIN "Job" j ON j.id = u."jobId" JOIN "Template" t ON t.id = j."templateId"
      WHERE u."projectId" = $1 AND u."createdAt" >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - make_interval(days => $2 - 1)
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    [projectId, days],
  );
  return rows.map((r) => ({ ...r, inputTokens: Number(r.inputTokens), outputTokens: Number(r.outputTokens) }));
}

/** What a finished job of each template typically cost in this project (mean of SUCCEEDED jobs). */
export async function typicalCosts(pool: Pool, projectId: string): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ templateId: string; avg: number }>(
    `SELECT "templateId", round(avg("costUsd"), 8)::float8 AS avg FROM "Job"
      WHERE "projectId" = $1 AND state = 'SUCCEEDED' GROUP BY "templateId"`,
    [projectId],
  );
  return new Map(rows.map((r) => [r.templateId, r.avg]));
}
