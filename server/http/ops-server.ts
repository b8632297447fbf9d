import http from 'node:http';
import type { Services } from '../services.ts';
import { handleHealth } from './health.ts';
import { handleMetrics } from './metrics-endpoint.ts';
import { refuseConnect, requestListener } from './request-listener.ts';
import { limitConnections, OPS_MAX_CONNECTIONS, SERVER_OPTIONS } from './connection-limits.ts';

/** The ops server: `/healthz`, `/readyz` and `/metrics` for probes and scrapers (a worker's PORT, and AUTODEV_METRICS_PORT). */
export function createOpsServer(services: Services): http.Server {
  const server = http.createServer(
    SERVER_OPTIONS,
    requestListener(
      services.log,
      [
        (req, res, target) => handleHealth(req, res, target, services),
        (req, res, target) => handleMetrics(req, res, target, services, 'ops'),
      ],
      'This port serves only /healthz, /readyz and /metrics.',
    ),
  );
  server.on('connect', refuseConnect);
  limitConnections(server, services.log, OPS_MAX_CONNECTIONS);
  return server;
}
