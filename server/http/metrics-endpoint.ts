import type http from 'node:http';
import { collectDbMetrics } from '../observability/collect-db-metrics.ts';
import type { Services } from '../services.ts';
import type { RequestTarget } from './request-target.ts';

/** `GET /metrics`: Prometheus text format; database-backed gauges are refreshed per scrape. */
export function handleMetrics(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget, services: Services): boolean | Promise<void> {
  if (target.path !== '/metrics' || req.method !== 'GET') return false;
  return (async () => {
    await collectDbMetrics(services.pool, services.metrics).catch((err) => services.log.warn('metrics: database gauges unavailable', { error: String(err) }));
    const body = await services.metrics.registry.metrics();
    res.writeHead(200, { 'content-type': services.metrics.registry.contentType }).end(body);
  })();
}
