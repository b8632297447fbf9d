// Task checkpoints: the one module that writes TaskCheckpoint rows and decides where a new
// attempt of a job starts. A completed task's output, what its model calls cost and (agent
// runtime) the workspace patch after it are stored as the runner reports the task done; a later
// attempt — after a lost worker, a pause for human input or a reviewer's request for changes —
// reuses the longest valid chain of them instead of running (and paying for) those tasks again.
import type { Sql } from '../db/transaction.ts';
import type { CompletedTask, ResumePoint } from '../runner-protocol/resume-point.ts';

export interface CheckpointRow {
  id: string;
  task: string;
  taskIndex: number;
  attemptNumber: number;
  output: string;
  baseCommit: string | null;
  patch: string | null;
  resumable: boolean;
  question: string | null;
  answer: string | null;
  answeredAt: Date | null;
}

interface CrewTasks {
  tasks: { id: string }[];
}

/** A task the attempt just completed, as its checkpoint records it. */
export interface CompletedTaskCheckpoint {
  jobId: string;
  attemptId: string;
  attemptNumber: number;
  crew: CrewTasks;
  task: string;
  output: string;
  baseCommit?: string | null;
  commit?: string;
  patch?: string;
  patchOmitted?: boolean;
  /** The attempt works in a workspace: without a patch the checkpoint cannot be resumed from. */
  workspace: boolean;
}

/**
 * SQL storing the checkpoint of a task the attempt just completed (pushes its values onto
 * `params`), run in the statement that stores the task's TASK_COMPLETED event; null when the task
 * is not one of the crew's (nothing to resume from). Its cost is what the attempt's usage records
 * for the task add up to, so it is what was charged (not what the runner claims).
 */
export function checkpointInsert(c: CompletedTaskCheckpoint, params: unknown[]): string | null {
  const index = c.crew.tasks.findIndex((t) => t.id === c.task);
  if (index < 0) return null;
  const resumable = !c.workspace || (c.patch !== undefined && !c.patchOmitted && Boolean(c.baseCommit));
  const b = params.length;
  params.push(
    c.jobId,
    c.attemptId,
    c.attemptNumber,
    c.task,
    index,
    c.output,
    c.baseCommit ?? null,
    c.commit ?? null,
    c.patch ?? null,
    resumable,
  );
  const $ = (i: number) => `$${b + i}`;
  return `INSERT INTO "TaskCheckpoint" ("jobId", "attemptId", "attemptNumber", task, "taskIndex", output, "inputTokens", "outputTokens", "costUsd", "baseCommit", commit, patch, resumable)
     SELECT ${$(1)}::uuid, ${$(2)}::uuid, ${$(3)}::int, ${$(4)}::text, ${$(5)}::int, ${$(6)}::text, COALESCE(sum(u."inputTokens"), 0), COALESCE(sum(u."outputTokens"), 0), COALESCE(sum(u."costUsd"), 0), ${$(7)}::text, ${$(8)}::text, ${$(9)}::text, ${$(10)}::boolean
     FROM "UsageRecord" u WHERE u."attemptId" = ${$(2)}::uuid AND u.task = ${$(4)}::text`;
}

/**
 * The checkpoints a new attempt starts from: for the crew's tasks in order, each task's latest
 * checkpoint that is not superseded, as long as each was made after the previous one (a task
 * re-run later makes the older checkpoints of the tasks after it stale) and all share one base
 * commit. The chain ends at its last resumable link (a workspace change too large to keep cannot
 * be rebuilt, so the tasks from there run again).
 */
export async function currentChain(sql: Sql, jobId: string, crew: CrewTasks): Promise<CheckpointRow[]> {
  const { rows } = await sql.query<CheckpointRow>(
    `SELECT DISTINCT ON (task) id::text, task, "taskIndex", "attemptNumber", output, "baseCommit", patch, resumable, question, answer, "answeredAt"
     FROM "TaskCheckpoint" WHERE "jobId" = $1 AND "supersededAt" IS NULL ORDER BY task, id DESC`,
    [jobId],
  );
  const latest = new Map(rows.map((r) => [r.task, r]));
  const chain: CheckpointRow[] = [];
  for (const task of crew.tasks) {
    const c = latest.get(task.id);
    const previous = chain.at(-1);
    if (!c) break;
    if (previous && (BigInt(c.id) < BigInt(previous.id) || c.baseCommit !== previous.baseCommit)) break;
    chain.push(c);
  }
  while (chain.length && !chain.at(-1)!.resumable) chain.pop();
  return chain;
}

/** The chain as the runner receives it (RunnerSpec.resume), or undefined when nothing is reused. */
export function resumePointOf(chain: CheckpointRow[]): ResumePoint | undefined {
  if (!chain.length) return undefined;
  const last = chain.at(-1)!;
  const completed: CompletedTask[] = chain.map((c) => ({
    task: c.task,
    output: c.output,
    // Asked and answered (or the wait ended, answeredAt without an answer): the answer; still waiting: absent.
    ...(c.question !== null && c.answeredAt !== null ? { answer: c.answer } : {}),
  }));
  return { completed, ...(last.patch !== null ? { patch: last.patch } : {}), ...(last.baseCommit ? { baseCommit: last.baseCommit } : {}) };
}

/**
 * Marks the named task's checkpoints and those of every later task as superseded, so the next
 * attempt runs from that task (requestChanges' fromTask; a retry after the crew's result failed).
 */
export async function supersedeFrom(sql: Sql, jobId: string, fromIndex: number): Promise<number> {
  const { rowCount } = await sql.query(
    `UPDATE "TaskCheckpoint" SET "supersededAt" = now() WHERE "jobId" = $1 AND "taskIndex" >= $2 AND "supersededAt" IS NULL`,
    [jobId, fromIndex],
  );
  return rowCount ?? 0;
}

/** Records the question a checkpointed task asked (in the transaction that pauses the job). */
export async function recordQuestion(sql: Sql, jobId: string, task: string, question: string): Promise<void> {
  await sql.query(
    `UPDATE "TaskCheckpoint" SET question = $3 WHERE id = (
       SELECT id FROM "TaskCheckpoint" WHERE "jobId" = $1 AND task = $2 AND "supersededAt" IS NULL ORDER BY id DESC LIMIT 1)`,
    [jobId, task, question],
  );
}

/** Records the answer (null: the wait ended without one) on the asking task's checkpoint; false when there is none. */
export async function recordAnswer(sql: Sql, jobId: string, task: string, answer: string | null, by: string): Promise<boolean> {
  const { rowCount } = await sql.query(
    `UPDATE "TaskCheckpoint" SET answer = $3, "answeredBy" = $4, "answeredAt" = now() WHERE id = (
       SELECT id FROM "TaskCheckpoint" WHERE "jobId" = $1 AND task = $2 AND "supersededAt" IS NULL ORDER BY id DESC LIMIT 1)`,
    [jobId, task, answer, by],
  );
  return (rowCount ?? 0) > 0;
}
