import type pg from 'pg';
import { AppError, notFound } from '../errors.ts';
import type { Sql } from '../db/transaction.ts';
import { withTransaction } from '../db/transaction.ts';
import type { JobEventBus } from './job-event-bus.ts';
import { appendJobEvent, insertJobEvent, type JobEventRecord, type NewJobEvent } from './job-event.ts';
import { canTransition, isTerminal, type JobState } from './state-machine.ts';
import { jobStateEvents, queueWebhookDeliveries } from '../webhooks/webhook-events.ts';

export interface TransitionDeps {
  pool: pg.Pool;
  events: JobEventBus;
}

export interface JobPatch {
  output?: unknown;
  feedback?: string | null;
  lastError?: string | null;
}

export interface TransitionTx {
  sql: Sql;
  job: { id: string; projectId: string; version: number };
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
  /** Further writes that must commit together with the state change (reviews, attempts). */
  effects?: (tx: TransitionTx) => Promise<void>;
}

export interface TransitionResult {
  jobId: string;
  from: JobState;
  to: JobState;
  events: JobEventRecord[];
}

/**
 * The one function that changes a job's state: a guarded update (state and version must be what
 * was read) plus the STATE_CHANGED event, in one transaction; events are published after commit.
 * An illegal change is INVALID_TRANSITION, a lost race CONFLICT; either way nothing is written.
 */
export async function transitionJob(deps: TransitionDeps, req: TransitionRequest): Promise<TransitionResult> {
  const result = await withTransaction(deps.pool, (client) => transitionInTransaction(client, req));
  await deps.events.publish(result.events);
  return result;
}

/** The same, inside a caller's transaction; the caller must publish `events` after its commit. */
export async function transitionInTransaction(sql: Sql, req: TransitionRequest): Promise<TransitionResult> {
  // Whether the project has an enabled webhook endpoint rides along: a project without one costs
  // no further statement for webhooks.
  const { rows } = await sql.query<{ state: JobState; projectId: string; version: number; webhooks: boolean }>(
    `SELECT state, "projectId", version,
            EXISTS (SELECT 1 FROM "WebhookEndpoint" w WHERE w."projectId" = j."projectId" AND w.enabled) AS webhooks
       FROM "Job" j WHERE id = $1`,
    [req.jobId],
  );
  const current = rows[0];
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

  const params: unknown[] = [req.jobId, from, current.version, req.to, isTerminal(req.to)];
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
  const updated = await sql.query<{ lastSeq: number; version: number }>(
    `UPDATE "Job" SET state = $4, version = version + 1, "lastSeq" = "lastSeq" + 1, "updatedAt" = now(),
            "finishedAt" = CASE WHEN $5::boolean THEN now() ELSE NULL END${sets.map((s) => `, ${s}`).join('')}
     WHERE id = $1 AND state = $2 AND version = $3
     RETURNING "lastSeq", version`,
    params,
  );
  if (updated.rowCount === 0) {
    throw new AppError('CONFLICT', 'The job changed while this request was being handled; nothing was changed. Reload it and try again.');
  }
  const events: JobEventRecord[] = [
    await insertJobEvent(sql, req.jobId, current.projectId, updated.rows[0].lastSeq, {
      type: 'STATE_CHANGED',
      fromState: from,
      toState: req.to,
      message: req.message ?? `${from} → ${req.to}`,
      data: req.data,
      actor: req.actor,
      attemptNumber: req.attemptNumber,
    }),
  ];
  if (req.effects) {
    await req.effects({
      sql,
      job: { id: req.jobId, projectId: current.projectId, version: updated.rows[0].version },
      append: async (ev) => {
        const e = await appendJobEvent(sql, req.jobId, ev);
        events.push(e);
        return e;
      },
    });
  }
  if (current.webhooks) {
    const changed = events[0];
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
  return { jobId: req.jobId, from, to: req.to, events };
}
