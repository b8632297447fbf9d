import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga } from 'graphql-yoga';
import { WebSocketServer, type WebSocket } from 'ws';
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

/** Close code for a WebSocket whose client stopped reading (see jobEventStream's bound). */
export const SLOW_SUBSCRIBER_CLOSE_CODE = 1008; // Policy Violation

function closeSlowSocket(socket: WebSocket) {
  return (reason: string) => {
    socket.close(SLOW_SUBSCRIBER_CLOSE_CODE, reason.slice(0, 120));
    // The close frame waits behind what the client has not read yet: a client that reads again
    // within 10 s sees 1008 and the reason; one that does not is cut off (its buffers freed).
    setTimeout(() => socket.terminate(), 10_000).unref();
  };
}

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

  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: services.config.limits.maxRequestBytes });

  const wsServer = useServer<Record<string, unknown>>(
    {
      execute: (args: any) => args.rootValue.execute(args),
      subscribe: (args: any) => args.rootValue.subscribe(args),
      onConnect: async (ctx) => {
        // Refuse a bad credential at connect time (close 4403) rather than on every operation.
        const auth = ctx.connectionParams?.authorization as string | undefined;
        if (auth) {
          const { authError } = await principalFrom(services, auth);
          if (authError) return false;
        }
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        const { schema: s, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          connectionParams: ctx.connectionParams,
          request: { headers: new Headers() },
        } as never);
        const document = parse(payload.query);
        const errors = validate(s, document);
        if (errors.length > 0) return errors;
        return {
          schema: s,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables ?? undefined,
          contextValue: { ...(await contextFactory()), closeConnection: closeSlowSocket(ctx.extra.socket) },
          rootValue: { execute, subscribe },
        };
      },
    },
    wss,
  );

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
