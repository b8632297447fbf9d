import type { Sql } from '../db/transaction.ts';
import type { JobState } from './state-machine.ts';
import { redactText, redactValue } from '../secrets/redact.ts';
import type { JobEventType } from '../db/generated/enums.ts';

// prisma/schema.prisma's `JobEventType` enum.
export type { JobEventType };

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

// Every event is stored (and so published and replayed) with secrets redacted: its text may quote
// a runner, a provider or a tenant (server/secrets/redact.ts).

/**
 * SQL inserting `evs` as the job's events with the seqs `base + 1`, `base + 2`… in one statement,
 * where `source` is a FROM item (a CTE's name) with the columns `base` and "projectId" (one row, or
 * none: then nothing is inserted). `capped`: only the first `n` (a column of the source) are inserted.
 * `mergeData`: SQL of a jsonb object over the source row `s` (numbers only: it is not redacted),
 * merged into the last event's data (a figure the same statement computes).
 * Pushes the events' values onto `params`; returns the statement's INSERT part, RETURNING the stored columns.
 */
export function insertEventsFrom(
  source: string,
  jobParam: string,
  evs: NewJobEvent[],
  params: unknown[],
  opts: { capped?: boolean; mergeData?: string } = {},
): string {
  const values = evs.map((ev, i) => {
    params.push(i, ...storedValues(ev));
    const b = params.length - 8;
    return `($${b + 1}::int, $${b + 2}::"JobEventType", $${b + 3}::"JobState", $${b + 4}::"JobState", $${b + 5}::text, $${b + 6}::jsonb, $${b + 7}::text, $${b + 8}::int)`;
  });
  return `INSERT INTO "JobEvent" ("jobId", "projectId", seq, type, "fromState", "toState", message, data, actor, "attemptNumber", "createdAt")
     SELECT ${jobParam}, s."projectId", s.base + v.i + 1, v.type, v."fromState", v."toState", v.message,
            ${opts.mergeData ? `CASE WHEN v.i = ${evs.length - 1} THEN v.data || ${opts.mergeData} ELSE v.data END` : 'v.data'}, v.actor, v."attemptNumber", clock_timestamp()
     FROM ${source} s, (VALUES ${values.join(', ')}) AS v(i, type, "fromState", "toState", message, data, actor, "attemptNumber")
     ${opts.capped ? 'WHERE v.i < s.n' : ''}
     RETURNING ${COLUMNS}`;
}

/**
 * Appends a non-state event to a job in ONE statement: allocating `seq` (which locks the job row)
 * and inserting the event commit together, so a job's events always commit in `seq` order — which
 * is what lets subscribers tell a gap from a duplicate. (Two statements outside a transaction
 * would let a concurrent transition commit seq n+1 before seq n exists.)
 */
export async function appendJobEvent(sql: Sql, jobId: string, ev: NewJobEvent): Promise<JobEventRecord> {
  const [e] = await appendJobEvents(sql, jobId, [ev]);
  return e;
}

export async function readJobEvents(sql: Sql, jobId: string, afterSeq: number, limit = 1000): Promise<JobEventRecord[]> {
  const { rows } = await sql.query<Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM "JobEvent" WHERE "jobId" = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    [jobId, afterSeq, limit],
  );
  return rows.map(toEventRecord);
}

/**
 * The events of `jobId` after `afterSeq` stored (inserted) at or after `since` and in the last
 * `withinMs`: what a project's stream missed of a job it sees for the first time (see Sequencer in
 * realtime/job-event-stream.ts). `createdAt` is the insert's clock_timestamp, so it grows with seq
 * within a job.
 */
export async function readRecentJobEvents(
  sql: Sql,
  jobId: string,
  afterSeq: number,
  since: Date,
  withinMs: number,
  limit: number,
): Promise<JobEventRecord[]> {
  const { rows } = await sql.query<Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM "JobEvent"
     WHERE "jobId" = $1 AND seq > $2 AND "createdAt" >= GREATEST($3::timestamptz, now() - make_interval(secs => $4::double precision / 1000))
     ORDER BY seq LIMIT $5`,
    [jobId, afterSeq, since, withinMs, limit],
  );
  return rows.map(toEventRecord);
}

/** The database's clock (events' `createdAt` are read off it). */
export async function databaseNow(sql: Sql): Promise<Date> {
  const { rows } = await sql.query<{ now: Date }>(`SELECT clock_timestamp() AS now`);
  return rows[0].now;
}

/** A project's events created at or after `since`, oldest first (after a pub/sub outage). */
export async function readProjectEventsSince(
  sql: Sql,
  projectId: string,
  since: Date,
  afterId = 0,
  limit = 1000,
): Promise<JobEventRecord[]> {
  const { rows } = await sql.query<Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM "JobEvent" WHERE "projectId" = $1 AND "createdAt" >= $2 AND id > $3 ORDER BY id LIMIT $4`,
    [projectId, since, afterId, limit],
  );
  return rows.map(toEventRecord);
}

/** A job already holds as many events as it may (see `maxEvents` below). */
export class EventLimitReached extends Error {
  readonly code = 'EVENT_LIMIT_REACHED';
  /** `stored`: the first events of the batch, those that still fitted. */
  constructor(
    readonly limit: number,
    readonly stored: JobEventRecord[] = [],
  ) {
    super(
      `The job already holds ${limit} events, the most one job may store (AUTODEV_MAX_EVENTS_PER_JOB); the runner's further output is not stored.`,
    );
  }
}

/** An event's stored columns from type to attemptNumber, in table order; text redacted before it is stored. */
function storedValues(ev: NewJobEvent): unknown[] {
  return [
    ev.type,
    ev.fromState ?? null,
    ev.toState ?? null,
    ev.message == null ? null : redactText(ev.message),
    ev.data === undefined ? null : JSON.stringify(redactValue(ev.data)),
    redactText(ev.actor),
    ev.attemptNumber ?? null,
  ];
}

/**
 * Appends several events to one job: one seq allocation and one INSERT, in one statement.
 * With `maxEvents`, only as many are stored as keep the job at or under that many events (its seq
 * is its count); when some did not fit, EventLimitReached carries those that did.
 */
export async function appendJobEvents(
  sql: Sql,
  jobId: string,
  evs: NewJobEvent[],
  opts: {
    maxEvents?: number;
    /**
     * Another write in the same statement (it commits with the events or not at all), whether or
     * not the events fit under `maxEvents`: SQL of a data-modifying statement, which may push its
     * values onto `params`; null: none.
     */
    writeWith?: (params: unknown[]) => string | null;
  } = {},
): Promise<JobEventRecord[]> {
  if (evs.length === 0) return [];
  const params: unknown[] = [jobId, evs.length, opts.maxEvents ?? null];
  const written = opts.writeWith?.(params);
  const { rows } = await sql.query<Record<string, unknown>>(
    `WITH job AS (
       UPDATE "Job" j SET "lastSeq" = j."lastSeq" + fit.n
       FROM (SELECT id, LEAST($2::int, GREATEST(0, COALESCE($3::int - "lastSeq", $2::int))) AS n FROM "Job" WHERE id = $1 FOR UPDATE) fit
       WHERE j.id = fit.id
       RETURNING j."lastSeq" - fit.n AS base, fit.n, j."projectId"
     )${written ? `, written AS (${written})` : ''}
     ${insertEventsFrom('job', '$1', evs, params, { capped: true })}`,
    params,
  );
  const stored = rows.map(toEventRecord).sort((a, b) => a.seq - b.seq);
  if (opts.maxEvents !== undefined && stored.length < evs.length) throw new EventLimitReached(opts.maxEvents, stored);
  if (stored.length === 0) throw new Error(`job ${jobId} not found`);
  return stored;
}
