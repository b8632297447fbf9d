// The workspace side of task checkpoints: after each task the runner commits the workspace and
// sends the whole change since the base commit (`git diff --binary`, base64) with the task's
// task_completed event; an attempt that resumes — on any worker — clones the same base and
// applies the last reused task's patch, so it continues with the files the earlier attempt left.
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { checkpoint } from './checkpoint.ts';
import { diffAgainst } from './diff-against.ts';
import { runGit } from './run-git.ts';
import { WorkspaceError } from './workspace-error.ts';

/** The largest patch (base64 characters) a task_completed event carries: the protocol's `patch` maxLength. */
export const MAX_CHECKPOINT_PATCH_CHARS = 900_000;

/** Commits the workspace after a task and returns what its task_completed event carries. */
export async function taskCheckpoint(
  dir: string,
  baseCommit: string,
  message: string,
): Promise<{ commit: string; patch?: string; patchOmitted?: boolean }> {
  await checkpoint(dir, message);
  const commit = (await runGit(['rev-parse', 'HEAD'], { cwd: dir })).toString('utf8').trim();
  const patch = (await diffAgainst(dir, baseCommit)).patch.toString('base64');
  return patch.length <= MAX_CHECKPOINT_PATCH_CHARS ? { commit, patch } : { commit, patchOmitted: true };
}

/**
 * Applies a checkpoint's patch (base64) to a fresh clone at the base commit and commits it. A
 * clone whose base is not the checkpoint's (the ref moved) or a patch that does not apply is a
 * WorkspaceError: the tasks cannot be resumed in that workspace.
 */
export async function restoreCheckpoint(dir: string, cloned: string, resume: { patch?: string; baseCommit?: string }): Promise<void> {
  if (resume.baseCommit && resume.baseCommit !== cloned) {
    throw new WorkspaceError(
      'WORKSPACE_GIT_FAILED',
      `The tasks this attempt reuses worked on commit ${resume.baseCommit.slice(0, 12)}, but the repository's ref is now at ${cloned.slice(0, 12)}; request changes from the first task to run them again on it.`,
      false,
    );
  }
  if (!resume.patch) return;
  const file = path.join(path.dirname(dir), 'checkpoint.patch');
  await writeFile(file, Buffer.from(resume.patch, 'base64'));
  try {
    await runGit(['apply', '--binary', '--index', '--whitespace=nowarn', file], { cwd: dir, code: 'WORKSPACE_GIT_FAILED' });
  } finally {
    await rm(file, { force: true });
  }
  await checkpoint(dir, 'Resumed from checkpoint');
}
