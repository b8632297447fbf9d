import type http from 'node:http';
import { collectDbMetrics } from '../observability/collect-db-metrics.ts';
import type { Services } from '../services.ts';

/** `GET /metrics`: Prometheus text format; database-backed gauges are refreshed per scrape. */
export function handleMetrics(req: http.IncomingMessage, res: http.ServerResponse, services: Services): boolean {
  if (req.url?.split('?')[0] !== '/metrics' || req.method !== 'GET') return false;
  void (async () => {
    await collectDbMetrics(services.pool, services.metrics).catch((err) => services.log.warn('metrics: database gauges unavailable', { error: String(err) }));
    const body = await services.metrics.registry.metrics();
    res.writeHead(200, { 'content-type': services.metrics.registry.contentType }).end(body);
  })().catch(() => {
    if (!res.headersSent) res.writeHead(500).end();
  });
  return true;
}
