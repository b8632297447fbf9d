import type pg from 'pg';
import { AppError, notFound } from '../errors.ts';
import type { Sql } from '../db/transaction.ts';
import { withTransaction } from '../db/transaction.ts';
import { commitWithNext } from '../db/named-statements.ts';
import type { JobEventBus } from './job-event-bus.ts';
import { appendJobEvent, insertEventsFrom, toEventRecord, type JobEventRecord, type NewJobEvent } from './job-event.ts';
import { canTransition, isTerminal, type JobState } from './state-machine.ts';
import { jobStateEvents, queueWebhookDeliveries } from '../webhooks/webhook-events.ts';
import { refusalOf, refuseSql } from '../db/refusal.ts';

export interface TransitionDeps {
  pool: pg.Pool;
  events: JobEventBus;
}

export interface JobPatch {
  output?: unknown;
  feedback?: string | null;
  lastError?: string | null;
  /** A new attempt starts: "attemptCount" + 1 (the result's `attemptCount`). */
  countAttempt?: true;
}

/**
 * The job's columns a transition decides on, as SQL over the job's row aliased `j`: a caller that
 * reads the job anyway in the same transaction selects these too and passes the row as `read`.
 */
export const TRANSITION_READ_COLUMNS = `j.state, j."projectId", j.version`;

/**
 * The job's row as a transition starts from: read in the caller's transaction, or what the caller
 * knows it left (the version after its own transition: only transitions change it).
 * The update is guarded by state and version either way, so a stale row is a CONFLICT.
 */
export interface TransitionRead {
  state: JobState;
  projectId: string;
  version: number;
}

export interface TransitionTx {
  sql: Sql;
  job: { id: string; projectId: string; version: number };
  /** With `writeWith`: the row it returned (its RETURNING columns), null when it wrote none. */
  written?: Record<string, unknown> | null;
  /** Appends another event to this job in the same transaction (published after commit). */
  append(ev: NewJobEvent): Promise<JobEventRecord>;
}

export interface TransitionRequest {
  jobId: string;
  to: JobState;
  /** The state(s) the caller believes the job is in; a job found elsewhere is a CONFLICT. */
  from?: JobState | readonly JobState[];
  /** When set, a job of another project does not exist for this caller. */
  projectId?: string;
  actor: string;
  message?: string;
  data?: unknown;
  attemptNumber?: number | null;
  patch?: JobPatch;
  /** The job's row (TransitionRead) when the caller has it; otherwise it is read first. */
  read?: TransitionRead;
  /** Events of this job recorded just before the state change (their seqs precede STATE_CHANGED's), in its statement. */
  before?: NewJobEvent[];
  /**
   * A row written exactly when the state changes, in the guarded update's statement (no round trip
   * of its own): SQL of a data-modifying statement over the updated job `updated` (one row, or none
   * when the update lost) that returns `id`, e.g. `INSERT … SELECT … FROM updated RETURNING id`.
   * It may push its values onto `params`. Its id is the result's `writtenId`; the row it returned
   * (any further RETURNING columns) is `effects`' `written`.
   */
  writeWith?: (params: unknown[]) => string;
  /** Further writes that must commit together with the state change (reviews, attempts). */
  effects?: (tx: TransitionTx) => Promise<void>;
  /**
   * The transition's statement is, most likely, its transaction's last: COMMIT goes with it, in its
   * round trip (commitWithNext). The statement fails itself (NOT_LAST) when something
   * must follow it after all: the project has an enabled webhook endpoint (its deliveries are
   * queued after the statement), or `unless` holds (SQL over the CTEs `updated` and `written`, e.g.
   * a slot to give). Nothing is then written, and the transaction runs again without `last`
   * (withLastOrAgain: transitionJob's own, or its caller's around transitionInTransaction). `effects` must send no
   * statement when `unless` does not hold. A lost race (CONFLICT) commits what the transaction
   * wrote before the statement: for callers that wrote nothing before it.
   */
  last?: { unless?: string };
}

export interface TransitionResult {
  jobId: string;
  from: JobState;
  to: JobState;
  events: JobEventRecord[];
  /** With `patch.countAttempt`: the job's attempt count after the change. */
  attemptCount?: number;
  /** With `writeWith`: the id its row was written with. */
  writtenId?: string;
}

/**
 * The one function that changes a job's state: a guarded update (state and version must be what
 * was read) plus the STATE_CHANGED event, in one transaction; events are published after commit.
 * An illegal change is INVALID_TRANSITION, a lost race CONFLICT; either way nothing is written.
 */
export async function transitionJob(deps: TransitionDeps, req: TransitionRequest): Promise<TransitionResult> {
  const { last: _, ...again } = req;
  const result = await withLastOrAgain((mayBeLast) =>
    withTransaction(deps.pool, (client) => transitionInTransaction(client, mayBeLast ? req : again)),
  );
  await deps.events.publish(result.events);
  return result;
}

/** The refusal of a transition's statement sent as its transaction's last (`last`) that found something must follow it. */
const NOT_LAST = 'not the last statement';

/**
 * Runs a transaction whose transition may be sent as its last (`mayBeLast`: pass `last`); when its
 * statement refused to be (NOT_LAST, see TransitionRequest.last), nothing was written and the
 * transaction runs again without `last`.
 */
export function withLastOrAgain<T>(run: (mayBeLast: boolean) => Promise<T>): Promise<T> {
  return run(true).catch((err: unknown) => {
    if (refusalOf(err) !== NOT_LAST) throw err;
    return run(false);
  });
}

/** The same, inside a caller's transaction; the caller must publish `events` after its commit. */
export async function transitionInTransaction(sql: Sql, req: TransitionRequest): Promise<TransitionResult> {
  const current =
    req.read ??
    (await sql.query<TransitionRead>(`SELECT ${TRANSITION_READ_COLUMNS} FROM "Job" j WHERE id = $1`, [req.jobId])).rows[0] ??
    null;
  if (!current || (req.projectId && current.projectId !== req.projectId)) throw notFound(`Job ${req.jobId}`);
  const from = current.state;
  const expected = req.from === undefined ? undefined : ([] as JobState[]).concat(req.from);
  if (expected && !expected.includes(from)) {
    throw new AppError('CONFLICT', `The job is ${from}, not ${expected.join(' or ')}; nothing was changed.`, { state: from });
  }
  if (!canTransition(from, req.to)) {
    throw new AppError(
      'INVALID_TRANSITION',
      isTerminal(from)
        ? `The job is already ${from} and cannot change any more (requested ${req.to}).`
        : `A job that is ${from} cannot become ${req.to}.`,
      { state: from, requested: req.to },
    );
  }

  const before = req.before ?? [];
  const params: unknown[] = [req.jobId, from, current.version, req.to, isTerminal(req.to), before.length + 1];
  const sets: string[] = [];
  const patch = req.patch ?? {};
  if ('output' in patch) {
    params.push(patch.output === undefined ? null : JSON.stringify(patch.output));
    sets.push(`output = $${params.length}::jsonb`);
  }
  if ('feedback' in patch) {
    params.push(patch.feedback ?? null);
    sets.push(`feedback = $${params.length}`);
  }
  if ('lastError' in patch) {
    params.push(patch.lastError ?? null);
    sets.push(`"lastError" = $${params.length}`);
  }
  if (patch.countAttempt) sets.push(`"attemptCount" = "attemptCount" + 1`);
  const written = req.writeWith ? `, written AS (${req.writeWith(params)})` : '';
  // After any transition a job is not waiting for a slot of its project (project-slots.ts): only a
  // claim parks one, without a transition, and every move into QUEUED queues a run. A parked job
  // claimed through another queue entry, or cancelled, keeps no stale mark (nor one left earlier).
  // The guarded update and its events (those before it, then STATE_CHANGED) in one statement: the
  // events take the seqs the update allocates, and a lost race (no row updated) inserts nothing.
  const insert = insertEventsFrom(
    'updated',
    '$1::uuid',
    [
      ...before.map((ev) => ({ ...ev, attemptNumber: ev.attemptNumber ?? req.attemptNumber })),
      {
        type: 'STATE_CHANGED',
        fromState: from,
        toState: req.to,
        message: req.message ?? `${from} → ${req.to}`,
        data: req.data,
        actor: req.actor,
        attemptNumber: req.attemptNumber,
      },
    ],
    params,
  );
  if (req.last) commitWithNext(sql);
  const notLast = req.last
    ? `, CASE WHEN (SELECT webhooks FROM updated)${req.last.unless ? ` OR (${req.last.unless})` : ''} THEN ${refuseSql(NOT_LAST)} END AS "notLast"`
    : '';
  const { rows } = await sql.query<Record<string, unknown>>(
    `WITH updated AS (
       UPDATE "Job" SET state = $4, version = version + 1, "lastSeq" = "lastSeq" + $6::int, "updatedAt" = now(),
              "finishedAt" = CASE WHEN $5::boolean THEN now() ELSE NULL END,
              "slotWaitSince" = NULL${sets.map((s) => `, ${s}`).join('')}
       WHERE id = $1 AND state = $2 AND version = $3
       RETURNING "lastSeq" - $6::int AS base, "projectId", version, "attemptCount",
                 EXISTS (SELECT 1 FROM "WebhookEndpoint" w WHERE w."projectId" = "Job"."projectId" AND w.enabled) AS webhooks)${written}
     ${insert}, (SELECT version FROM updated) AS "jobVersion", (SELECT "attemptCount" FROM updated) AS "jobAttemptCount",
       (SELECT webhooks FROM updated) AS "jobWebhooks"${written ? ', (SELECT to_jsonb(written) FROM written) AS "writtenRow"' : ''}${notLast}`,
    params,
  );
  if (rows.length === 0) {
    throw new AppError('CONFLICT', 'The job changed while this request was being handled; nothing was changed. Reload it and try again.');
  }
  const version = Number(rows[0].jobVersion);
  const attemptCount = Number(rows[0].jobAttemptCount);
  // Whether the project has an enabled webhook endpoint rides on the update: a project without one
  // costs no further statement for webhooks.
  const webhooks = rows[0].jobWebhooks === true;
  const writtenRow = written ? ((rows[0].writtenRow as Record<string, unknown> | null) ?? null) : undefined;
  const writtenId = writtenRow?.id as string | undefined;
  const events: JobEventRecord[] = rows
    .map(({ jobVersion: _v, jobAttemptCount: _a, jobWebhooks: _w, writtenRow: _r, notLast: _l, ...row }) => toEventRecord(row))
    .sort((a, b) => a.seq - b.seq);
  const changed = events[events.length - 1];
  if (req.effects) {
    await req.effects({
      sql,
      job: { id: req.jobId, projectId: current.projectId, version },
      ...(writtenRow !== undefined ? { written: writtenRow } : {}),
      append: async (ev) => {
        const e = await appendJobEvent(sql, req.jobId, ev);
        events.push(e);
        return e;
      },
    });
  }
  if (webhooks) {
    await queueWebhookDeliveries(
      sql,
      current.projectId,
      jobStateEvents({
        projectId: current.projectId,
        jobId: req.jobId,
        fromState: from,
        toState: req.to,
        seq: changed.seq,
        actor: req.actor,
        message: changed.message ?? '',
        attemptNumber: req.attemptNumber ?? null,
      }),
      new Date(changed.createdAt),
    );
  }
  return {
    jobId: req.jobId,
    from,
    to: req.to,
    events,
    ...(patch.countAttempt ? { attemptCount } : {}),
    ...(writtenId ? { writtenId } : {}),
  };
}
