import type { TransitionDeps } from '../../jobs/transition-job.ts';
import { renewHeartbeat } from '../recover-lost-attempts.ts';
import type { AttemptStop } from './attempt-stop.ts';

/**
 * Stops the attempt when its job is cancelled, through the event bus at once. Started before the
 * claim, so that a cancellation committed right after the claim is not missed. Returns the function
 * that stops watching.
 */
export async function watchCancellation(deps: TransitionDeps, jobId: string, stop: AttemptStop): Promise<() => Promise<void>> {
  return deps.events.onJob(jobId, (e) => {
    if (e.type === 'STATE_CHANGED' && e.toState === 'CANCELLED') stop.halt({ kind: 'cancelled' });
  });
}

/**
 * Stops the attempt when the worker shuts down, when the job was cancelled (the heartbeat's
 * backstop to watchCancellation) or when the attempt was declared lost. Renews the attempt's
 * heartbeat every sixth of the lease; the claim set the first one. Returns the function that
 * stops watching.
 */
export function watchAttempt(
  deps: TransitionDeps,
  req: { attemptId: string; leaseMs: number; shutdown: AbortSignal; stop: AttemptStop },
): () => void {
  const { stop } = req;
  const onShutdown = () => stop.halt({ kind: 'shutdown' });
  req.shutdown.addEventListener('abort', onShutdown);
  // A shutdown that began while the claim was answered (its attempt already RUNNING for everyone
  // else) fired before this listener: the attempt stops now, as its siblings did.
  if (req.shutdown.aborted) onShutdown();
  const beat = async () => {
    const hb = await renewHeartbeat(deps, req.attemptId).catch(() => null);
    if (hb && !hb.alive) stop.halt({ kind: 'lost' });
    else if (hb?.jobState === 'CANCELLED') stop.halt({ kind: 'cancelled' });
  };
  const heartbeat = setInterval(() => void beat(), Math.max(200, Math.floor(req.leaseMs / 6)));
  return () => {
    clearInterval(heartbeat);
    req.shutdown.removeEventListener('abort', onShutdown);
  };
}
