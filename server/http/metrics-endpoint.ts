import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { collectDbMetrics } from '../observability/collect-db-metrics.ts';
import type { Services } from '../services.ts';
import { sendError } from './request-listener.ts';
import type { RequestTarget } from './request-target.ts';

/**
 * Where `/metrics` is asked for: the API port (public) or the ops port (the worker's PORT, or
 * AUTODEV_METRICS_PORT), which only scrapers and probes reach.
 */
export type MetricsPort = 'api' | 'ops';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** True when the header carries the metrics token (compared in constant time). */
function bearsToken(header: string | undefined, token: string): boolean {
  const given = /^Bearer (.+)$/i.exec(header ?? '')?.[1];
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

/**
 * `GET /metrics`: Prometheus text format; database-backed gauges are refreshed per scrape. The
 * exposition names every project's budget and templates, so it is never open on the API port:
 * there it needs AUTODEV_METRICS_TOKEN (404 when none is configured); on the ops port it is open
 * unless that token is set.
 */
export function handleMetrics(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: RequestTarget,
  services: Services,
  port: MetricsPort,
): boolean | Promise<void> {
  if (target.path !== '/metrics') return false;
  const { metricsToken } = services.config;
  if (port === 'api' && !metricsToken) {
    sendError(
      res,
      404,
      'NOT_FOUND',
      'Metrics are not served on the API port: scrape the metrics port (AUTODEV_METRICS_PORT), or set AUTODEV_METRICS_TOKEN.',
    );
    return true;
  }
  if (metricsToken && !bearsToken(req.headers.authorization, metricsToken)) {
    sendError(res, 401, 'UNAUTHENTICATED', 'Metrics need the metrics token: send `Authorization: Bearer <AUTODEV_METRICS_TOKEN>`.', {
      'www-authenticate': 'Bearer',
    });
    return true;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendError(res, 405, 'METHOD_NOT_ALLOWED', 'Metrics are read with GET.', { allow: 'GET, HEAD' });
    return true;
  }
  return (async () => {
    await collectDbMetrics(services.pool, services.metrics).catch((err: unknown) =>
      services.log.warn('metrics: database gauges unavailable', { error: String(err) }),
    );
    const body = await services.metrics.registry.metrics();
    res.writeHead(200, { 'content-type': services.metrics.registry.contentType });
    res.end(req.method === 'HEAD' ? undefined : body);
  })();
}
