import type http from 'node:http';
import type { Services } from '../services.ts';
import type { RequestTarget } from './request-target.ts';

/** How long `/readyz` waits for PostgreSQL's answer (the Kubernetes probes' timeouts allow for it). */
export const POSTGRES_CHECK_MS = 2000;

/** `/healthz`: the process serves. `/readyz`: its dependencies answer (503 otherwise). */
export function handleHealth(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: RequestTarget,
  services: Services,
  extraChecks?: () => Promise<Record<string, boolean>>,
): boolean | Promise<void> {
  if (target.path === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok' }));
    return true;
  }
  if (target.path === '/readyz') {
    return (async () => {
      const checks: Record<string, boolean> = {};
      checks.postgres = await withTimeout(
        services.pool.query('SELECT 1').then(() => true),
        POSTGRES_CHECK_MS,
      );
      Object.assign(checks, extraChecks ? await extraChecks().catch(() => ({ extra: false })) : {});
      const ready = Object.values(checks).every(Boolean);
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: ready ? 'ready' : 'unavailable', checks }));
    })();
  }
  return false;
}

function withTimeout(p: Promise<boolean>, ms: number): Promise<boolean> {
  return Promise.race([p.catch(() => false), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
}
