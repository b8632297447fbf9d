import { AppError } from '../errors.ts';
import type { JobSpec } from '../jobs/job-spec.ts';
import {
  TRANSITION_READ_COLUMNS,
  transitionInTransaction,
  withLastOrAgain,
  type TransitionDeps,
  type TransitionRead,
} from '../jobs/transition-job.ts';
import { withTransaction } from '../db/transaction.ts';
import { lockProjectOfJob, takeSlotOrWait } from './project-slots.ts';
import type { ResumePoint } from '../runner-protocol/resume-point.ts';
import { LAST_PAUSED_ATTEMPT } from './attempt-tries.ts';
import { currentChain, resumePointOf } from '../checkpoints/checkpoints.ts';
import { SPENDING_BOUND_COLUMNS, spendingBoundOf, type SpendingBound, type SpendingBoundRow } from '../budgets/spending-bound.ts';
import { PRICES_OF_CREW } from '../budgets/model-prices.ts';

export interface StartedAttempt {
  attemptId: string;
  number: number;
  jobId: string;
  projectId: string;
  spec: JobSpec;
  input: unknown;
  /** What the previous attempt left for this one: reviewer feedback, its output, its guardrail violations. */
  feedback: null | { comment?: string; previousOutput?: unknown; guardrailViolations?: { name: string; message: string }[] };
  /** The tasks earlier attempts completed, reused instead of run again (undefined: start at the first task). */
  resume?: ResumePoint;
  /** The number of the job's last PAUSED attempt (0: none): retries are counted from there. */
  lastPausedAttempt: number;
  /** The artifacts the job's attempts stored before this one (the job's cap counts them). */
  artifactCount: number;
  /** The job's version after the claim: the attempt's end transitions from it (a change meanwhile is a CONFLICT). */
  jobVersion: number;
  /** What the runner may spend and the prices of the models it will call, read with the claim. */
  bound: SpendingBound;
  /**
   * As the claim saw the project (no running-attempts limit, no webhook endpoint), the attempt's end
   * likely needs no statement after its transition's: it may carry its COMMIT (TransitionRequest.last).
   */
  endsLast: boolean;
}

/**
 * Claims a queued job for this worker: QUEUED → RUNNING and a new JobAttempt, in one transaction.
 * Returns null when the job is no longer queued (cancelled, or claimed by another worker), or when
 * its project already runs as many attempts as its limit allows: then the job stays QUEUED and
 * waits for a slot (project-slots.ts), with no attempt recorded.
 */
export async function startAttempt(
  deps: TransitionDeps,
  req: {
    jobId: string;
    workerId: string;
    executor: string;
    defaultMaxRunning: number | null;
    /** The operator's AUTODEV_MODEL, which every agent then calls (the bound's prices are its price). */
    modelOverride?: string | null;
  },
): Promise<StartedAttempt | null> {
  let started: StartedAttempt | null = null;
  // `mayBeLast`: the claim's statement may carry its COMMIT (see `last` below); false once it found it may not.
  const claim = (mayBeLast: boolean) =>
    withTransaction(deps.pool, async (sql) => {
      // One read under the project's lock: the slot, the transition's row and what the attempt starts from.
      const current = await lockProjectOfJob<ClaimRead>(sql, req.jobId, req.defaultMaxRunning, CLAIM_READ_COLUMNS);
      if (!current) return null;
      if (current.limit !== null && !(await takeSlotOrWait(sql, { ...current, jobId: req.jobId, limit: current.limit }))) return null;
      const number = current.attemptCount + 1;
      let resume: ResumePoint | undefined;
      let jobVersion = 0;
      let boundRow: SpendingBoundRow | undefined;
      const transition = await transitionInTransaction(sql, {
        jobId: req.jobId,
        from: 'QUEUED',
        to: 'RUNNING',
        actor: `worker ${req.workerId}`,
        message: `Attempt ${number} started (${req.executor} executor)`,
        attemptNumber: number,
        read: current,
        patch: { feedback: null, countAttempt: true },
        // Nothing follows the claim's statement unless the job resumes from checkpoints (their
        // chain is read below) or the project has webhook endpoints (as the read saw it; the
        // statement checks again); what came before it wrote nothing (the slot's statement writes
        // only when it parks the job, and then no transition is sent): COMMIT goes with it.
        // The statement also refuses to be the last without its attempt's row (the fence below then
        // throws with the transaction still open). What fails after a committed claim (a bound that
        // cannot be read) leaves a RUNNING attempt no runner takes: the lost-attempt sweep retries it.
        ...(mayBeLast && !current.checkpointed && !current.webhooks ? { last: { unless: 'NOT EXISTS (SELECT 1 FROM written)' } } : {}),
        // The attempt's row, in the guarded update's statement: written exactly when the claim wins.
        // Its RETURNING reads the spending bound (the models: the operator's override, else the
        // crew's agents'): this statement runs after the project's lock was taken, so its snapshot
        // has every budget change committed before the attempt starts (the locking read's snapshot
        // may predate its wait for the lock). The job's cost changes only while it runs; what other
        // jobs charge may move the budget either way, as it may once the runner starts: the bound
        // only stops a runner early, chargeUsage decides every charge.
        // Its start and first heartbeat are the time of writing (clock_timestamp), not the
        // transaction's start (now(), the column's default), which predates the wait for the lock:
        // a claim that waited longer than the lease would start an attempt the sweep takes for lost.
        writeWith: (params) => {
          params.push(number, req.executor, req.workerId, current.feedback, req.modelOverride ?? null);
          const n = params.length;
          return `INSERT INTO "JobAttempt" (id, "jobId", number, state, executor, "workerId", feedback, "startedAt", "heartbeatAt")
                  SELECT gen_random_uuid(), $1::uuid, $${n - 4}::int, 'RUNNING', $${n - 3}, $${n - 2}, $${n - 1}, t.now, t.now
                  FROM updated, (SELECT clock_timestamp() AS now) t
                  RETURNING id, (SELECT to_jsonb(b) FROM (SELECT ${SPENDING_BOUND_COLUMNS('j', PRICES_OF_CREW(`j.spec->'crew'`, `$${n}::text`))}
                                                           FROM "Job" j WHERE j.id = $1::uuid) b) AS bound`;
        },
        effects: async (tx) => {
          jobVersion = tx.job.version;
          boundRow = tx.written?.bound as SpendingBoundRow | undefined;
          if (current.checkpointed) resume = resumePointOf(await currentChain(tx.sql, req.jobId, current.spec.crew));
        },
      });
      // The version guard already makes a concurrent claim a CONFLICT; this is its second fence.
      if (transition.attemptCount !== number || !transition.writtenId) throw new AppError('CONFLICT', 'The job was claimed concurrently.');
      started = {
        attemptId: transition.writtenId,
        number,
        jobId: req.jobId,
        projectId: current.projectId,
        spec: current.spec,
        input: current.input,
        feedback: feedbackFrom(current),
        ...(resume ? { resume } : {}),
        lastPausedAttempt: current.lastPaused,
        artifactCount: current.artifacts,
        jobVersion,
        bound: spendingBoundOf(boundRow),
        endsLast: current.limit === null && !current.webhooks,
      };
      return transition;
    });
  try {
    // An endpoint enabled since the read: the statement refused to be the last, the claim runs again.
    const result = await withLastOrAgain(claim);
    if (result) await deps.events.publish(result.events);
  } catch (err) {
    // Someone else moved the job first (cancelled, or another worker claimed it): nothing to run.
    if (err instanceof AppError && (err.code === 'CONFLICT' || err.code === 'INVALID_TRANSITION' || err.code === 'NOT_FOUND')) return null;
    throw err;
  }
  return started;
}

/** What the previous attempt left for this one: reviewer feedback, its output, its guardrail violations. */
function feedbackFrom(current: ClaimRead): StartedAttempt['feedback'] {
  const previous = current.previous;
  const violations = Array.isArray(previous?.guardrailResults)
    ? (previous.guardrailResults as { name: string; message: string; passed: boolean }[])
        .filter((g) => !g.passed)
        .map((g) => ({ name: g.name, message: g.message }))
    : [];
  if (!current.feedback && !violations.length) return null;
  return {
    ...(current.feedback ? { comment: current.feedback } : {}),
    ...(previous?.output !== null && previous?.output !== undefined ? { previousOutput: previous.output } : {}),
    ...(violations.length ? { guardrailViolations: violations } : {}),
  };
}

/** What a claim reads with the project's lock (the job's row `j`), besides the slot's view. */
interface ClaimRead extends TransitionRead {
  spec: JobSpec;
  input: unknown;
  feedback: string | null;
  /** The job's last attempt (null: none). */
  previous: { output: unknown; guardrailResults: unknown } | null;
  lastPaused: number;
  /** Whether the job has checkpoints in force (only then is its chain read). */
  checkpointed: boolean;
  artifacts: number;
  /** Whether the project has an enabled webhook endpoint: then the claim's COMMIT goes after its transition's statement. */
  webhooks: boolean;
}

/**
 * Read before the transition's guarded update, possibly while waiting for the project's lock: the
 * values are current only because their writers either move the job in the same transaction
 * (attempts, feedback, pauses: the version changes and this claim's update fails) or write only
 * while the job is RUNNING (checkpoints, artifacts), which a job being claimed is not. A writer of
 * these that did neither would let a claim start from stale values. Not the spending bound: a
 * budget may change while the claim waits for the lock (setBudget does not take it), so the bound
 * is read by the transition's statement, after the lock (see writeWith above).
 */
const CLAIM_READ_COLUMNS = `${TRANSITION_READ_COLUMNS}, j.spec, j.input, j.feedback,
  (SELECT json_build_object('output', a.output, 'guardrailResults', a."guardrailResults") FROM "JobAttempt" a
    WHERE a."jobId" = j.id ORDER BY a.number DESC LIMIT 1) AS previous,
  ${LAST_PAUSED_ATTEMPT('j.id')} AS "lastPaused",
  EXISTS (SELECT 1 FROM "TaskCheckpoint" c WHERE c."jobId" = j.id AND c."supersededAt" IS NULL) AS checkpointed,
  (SELECT count(*)::int FROM "Artifact" f WHERE f."jobId" = j.id) AS artifacts,
  EXISTS (SELECT 1 FROM "WebhookEndpoint" w WHERE w."projectId" = j."projectId" AND w.enabled) AS webhooks`;
