import http from 'node:http';
import type { Services } from '../services.ts';
import { handleHealth } from './health.ts';
import { handleMetrics } from './metrics-endpoint.ts';
import { refuseConnect, requestListener } from './request-listener.ts';

/** The ops server: `/healthz`, `/readyz` and `/metrics` for probes and scrapers (a worker's PORT, and AUTODEV_METRICS_PORT). */
export function createOpsServer(services: Services): http.Server {
  const server = http.createServer(
    requestListener(
      services.log,
      [(req, res, target) => handleHealth(req, res, target, services), (req, res, target) => handleMetrics(req, res, target, services, 'ops')],
      'This port serves only /healthz, /readyz and /metrics.',
    ),
  );
  server.on('connect', refuseConnect);
  return server;
}
