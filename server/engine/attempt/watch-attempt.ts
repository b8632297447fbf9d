import type { TransitionDeps } from '../../jobs/transition-job.ts';
import { renewHeartbeat } from '../recover-lost-attempts.ts';
import type { AttemptStop } from './attempt-stop.ts';

/**
 * Stops the attempt when the worker shuts down, when the job is cancelled (through the event bus
 * at once, through the heartbeat at the latest) or when the attempt was declared lost. Renews the
 * attempt's heartbeat every sixth of the lease. Returns the function that stops watching.
 */
export async function watchAttempt(
  deps: TransitionDeps,
  req: { jobId: string; attemptId: string; leaseMs: number; shutdown: AbortSignal; stop: AttemptStop },
): Promise<() => Promise<void>> {
  const { stop } = req;
  const onShutdown = () => stop.halt({ kind: 'shutdown' });
  req.shutdown.addEventListener('abort', onShutdown);
  const unsubscribe = await deps.events.onJob(req.jobId, (e) => {
    if (e.type === 'STATE_CHANGED' && e.toState === 'CANCELLED') stop.halt({ kind: 'cancelled' });
  });
  const beat = async () => {
    const hb = await renewHeartbeat(deps, req.attemptId).catch(() => null);
    if (hb && !hb.alive) stop.halt({ kind: 'lost' });
    else if (hb?.jobState === 'CANCELLED') stop.halt({ kind: 'cancelled' });
  };
  const heartbeat = setInterval(() => void beat(), Math.max(200, Math.floor(req.leaseMs / 6)));
  await beat();
  return async () => {
    clearInterval(heartbeat);
    req.shutdown.removeEventListener('abort', onShutdown);
    await unsubscribe();
  };
}
