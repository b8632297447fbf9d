import http from 'node:http';
import type { Services } from '../services.ts';
import { handleHealth } from './health.ts';
import { handleMetrics } from './metrics-endpoint.ts';

/** What a worker-only process serves: `/healthz`, `/readyz` and `/metrics` (for probes and scraping). */
export function createOpsServer(services: Services): http.Server {
  return http.createServer((req, res) => {
    if (handleHealth(req, res, services) || handleMetrics(req, res, services)) return;
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'A worker serves only /healthz, /readyz and /metrics.' }));
  });
}
