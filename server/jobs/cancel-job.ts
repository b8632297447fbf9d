import { transitionJob, type TransitionDeps } from './transition-job.ts';
import { dropInputRequest } from './provide-input.ts';

/**
 * Cancels a job that has not finished (also one waiting for input: its question is dropped). A running attempt's worker sees the CANCELLED state
 * (it listens for the job's events and re-checks on every heartbeat) and stops the runner.
 */
export async function cancelJob(deps: TransitionDeps, req: { projectId: string; jobId: string; actor: string; reason?: string | null }) {
  const reason = req.reason?.trim() ? req.reason.trim().slice(0, 2000) : null;
  return transitionJob(deps, {
    jobId: req.jobId,
    projectId: req.projectId,
    to: 'CANCELLED',
    actor: req.actor,
    message: reason ? `Cancelled: ${reason}` : 'Cancelled',
    data: reason ? { reason } : undefined,
    effects: async ({ sql }) => {
      await sql.query(`UPDATE "Review" SET status = 'CANCELLED' WHERE "jobId" = $1 AND status = 'PENDING'`, [req.jobId]);
      await dropInputRequest(sql, req.jobId);
    },
  });
}
