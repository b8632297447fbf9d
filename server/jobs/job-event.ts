import type { Sql } from '../db/transaction.ts';
import type { JobState } from './state-machine.ts';

export type JobEventType =
  | 'STATE_CHANGED'
  | 'LOG'
  | 'TASK_STARTED'
  | 'TASK_COMPLETED'
  | 'USAGE'
  | 'GUARDRAIL'
  | 'ARTIFACT'
  | 'BUDGET_THRESHOLD';

/** A committed job event, as stored, published and delivered to subscribers. */
export interface JobEventRecord {
  id: number;
  jobId: string;
  projectId: string;
  seq: number;
  type: JobEventType;
  fromState: JobState | null;
  toState: JobState | null;
  message: string | null;
  data: unknown;
  actor: string;
  attemptNumber: number | null;
  createdAt: string;
}

export interface NewJobEvent {
  type: JobEventType;
  fromState?: JobState | null;
  toState?: JobState | null;
  message?: string | null;
  data?: unknown;
  actor: string;
  attemptNumber?: number | null;
}

// createdAt is the time of the insert (clock_timestamp), not of the transaction's start (now()):
// it is what subscribers measure delivery latency from.
const COLUMNS = `id, "jobId", "projectId", seq, type, "fromState", "toState", message, data, actor, "attemptNumber", "createdAt"`;

export function toEventRecord(row: Record<string, unknown>): JobEventRecord {
  return {
    ...(row as unknown as JobEventRecord),
    id: Number(row.id),
    createdAt: new Date(row.createdAt as string | Date).toISOString(),
  };
}

/** Inserts an event with an already-allocated `seq` (see appendJobEvent / transitionJob). */
export async function insertJobEvent(
  sql: Sql,
  jobId: string,
  projectId: string,
  seq: number,
  ev: NewJobEvent,
): Promise<JobEventRecord> {
  const { rows } = await sql.query(
    `INSERT INTO "JobEvent" ("jobId", "projectId", seq, type, "fromState", "toState", message, data, actor, "attemptNumber", "createdAt")
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, clock_timestamp()) RETURNING ${COLUMNS}`,
    [
      jobId,
      projectId,
      seq,
      ev.type,
      ev.fromState ?? null,
      ev.toState ?? null,
      ev.message ?? null,
      ev.data === undefined ? null : JSON.stringify(ev.data),
      ev.actor,
      ev.attemptNumber ?? null,
    ],
  );
  return toEventRecord(rows[0]);
}

/**
 * Appends a non-state event to a job. Allocating `seq` locks the job row, so a job's events
 * commit in `seq` order, which is what lets subscribers detect and fill gaps.
 */
export async function appendJobEvent(sql: Sql, jobId: string, ev: NewJobEvent): Promise<JobEventRecord> {
  const { rows } = await sql.query<{ lastSeq: number; projectId: string }>(
    `UPDATE "Job" SET "lastSeq" = "lastSeq" + 1 WHERE id = $1 RETURNING "lastSeq", "projectId"`,
    [jobId],
  );
  if (rows.length === 0) throw new Error(`job ${jobId} not found`);
  return insertJobEvent(sql, jobId, rows[0].projectId, rows[0].lastSeq, ev);
}

export async function readJobEvents(sql: Sql, jobId: string, afterSeq: number, limit = 1000): Promise<JobEventRecord[]> {
  const { rows } = await sql.query(
    `SELECT ${COLUMNS} FROM "JobEvent" WHERE "jobId" = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    [jobId, afterSeq, limit],
  );
  return rows.map(toEventRecord);
}

/** Appends several events to one job with one seq allocation and one INSERT (log floods stay cheap). */
export async function appendJobEvents(sql: Sql, jobId: string, evs: NewJobEvent[]): Promise<JobEventRecord[]> {
  if (evs.length === 0) return [];
  const { rows } = await sql.query<{ lastSeq: number; projectId: string }>(
    `UPDATE "Job" SET "lastSeq" = "lastSeq" + $2 WHERE id = $1 RETURNING "lastSeq", "projectId"`,
    [jobId, evs.length],
  );
  if (rows.length === 0) throw new Error(`job ${jobId} not found`);
  const first = rows[0].lastSeq - evs.length + 1;
  const params: unknown[] = [];
  const values = evs.map((ev, i) => {
    params.push(jobId, rows[0].projectId, first + i, ev.type, ev.fromState ?? null, ev.toState ?? null, ev.message ?? null,
      ev.data === undefined ? null : JSON.stringify(ev.data), ev.actor, ev.attemptNumber ?? null);
    const b = i * 10;
    return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}, $${b + 8}, $${b + 9}, $${b + 10}, clock_timestamp())`;
  });
  const inserted = await sql.query(
    `INSERT INTO "JobEvent" ("jobId", "projectId", seq, type, "fromState", "toState", message, data, actor, "attemptNumber", "createdAt")
     VALUES ${values.join(', ')} RETURNING ${COLUMNS}`,
    params,
  );
  return inserted.rows.map(toEventRecord).sort((a, b) => a.seq - b.seq);
}
