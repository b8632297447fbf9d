// What a resumed attempt starts from (RunnerSpec.resume): decided by the engine from the job's task
// checkpoints (server/checkpoints), read by the runner, which skips these tasks.

/** A task an earlier attempt completed: its output and, when it asked, the answer it got (null: none came). */
export interface CompletedTask {
  task: string;
  output: string;
  /** Absent: the task did not ask, or asked and is still waiting; a string: the answer; null: the wait ended without one. */
  answer?: string | null;
}

export interface ResumePoint {
  /** The crew's first tasks, in order, that are not run again. */
  completed: CompletedTask[];
  /** Agent runtime: the workspace change after the last completed task, base64 of `git diff --binary` against `baseCommit`. */
  patch?: string;
  baseCommit?: string;
}
