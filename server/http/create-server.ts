import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { createYoga } from 'graphql-yoga';
import { schema } from '../schema/index.ts';
import type { GraphQLContext } from '../schema/context.ts';
import type { Services } from '../services.ts';
import { principalFrom } from './authenticate-request.ts';
import { handleHealth } from './health.ts';
import { handleArtifactDownload } from './artifact-download.ts';
import { handleMetrics } from './metrics-endpoint.ts';
import { handleWebApp } from './web-app.ts';
import { useGraphqlObservability } from '../observability/graphql-metrics-plugin.ts';
import { maskError } from './mask-error.ts';
import { armorPlugin, guardPlugin } from './hardening.ts';
import { refuseOversizedBody } from './body-limit.ts';
import { attachWebSocketServer } from './websocket-server.ts';

export interface ApiServer {
  server: http.Server;
  /** Stops accepting, closes sockets (1001 Going Away), waits for in-flight requests. */
  close(): Promise<void>;
}

/**
 * The API: GraphQL over HTTP (+ GraphiQL and SSE) by Yoga, graphql-ws on the same path,
 * and the health endpoints. Every concern is configured here, once.
 */
export function createApiServer(services: Services, opts: { readyChecks?: () => Promise<Record<string, boolean>> } = {}): ApiServer {
  const yoga = createYoga<{ connectionParams?: Record<string, unknown> }, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'AutoDev GraphQL', subscriptionsProtocol: 'WS' },
    maskedErrors: { maskError: maskError(services.log) },
    plugins: [armorPlugin(services.config.production), guardPlugin(services), useGraphqlObservability(services.metrics, services.tracer, services.log)],
    // Batched requests (a JSON array of operations) are accepted, at most 10 per request.
    batching: { limit: 10 },
    logging: false,
    context: async ({ request, connectionParams }) => {
      const header = (connectionParams?.authorization as string | undefined) ?? request.headers.get('authorization');
      const origin = services.config.publicUrl ?? (request.url?.startsWith('http') ? new URL(request.url).origin : '');
      const requestId = request.headers.get('x-request-id')?.slice(0, 100) || randomUUID();
      return { services, origin, requestId, ...(await principalFrom(services, header)) };
    },
  });

  const server = http.createServer((req, res) => {
    if (refuseOversizedBody(req, res, services.config.limits.maxRequestBytes)) return;
    if (handleHealth(req, res, services, opts.readyChecks)) return;
    if (handleArtifactDownload(req, res, services)) return;
    if (handleMetrics(req, res, services)) return;
    if (handleWebApp(req, res)) return;
    void yoga.handle(req, res);
  });

  const wsServer = attachWebSocketServer(server, yoga, services);

  return {
    server,
    async close() {
      await wsServer.dispose(); // closes every socket with 1001 Going Away
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await yoga.dispose();
    },
  };
}
