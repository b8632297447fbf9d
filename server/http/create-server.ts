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
import { useGraphqlObservability } from './graphql-metrics-plugin.ts';
import { answerCode } from './graphql-error.ts';
import { maskError } from './mask-error.ts';
import { armorPlugin, guardPlugin } from './hardening.ts';
import { responseLimitsPlugin } from './response-limits.ts';
import { nestingLimitPlugin } from './nesting-limit.ts';
import { requestParamsPlugin } from './request-params.ts';
import { limitConnections, SERVER_OPTIONS } from './connection-limits.ts';
import { refuseOversizedBody } from './body-limit.ts';
import { attachWebSocketServer } from './websocket-server.ts';
import { closeHttpServer } from './close-server.ts';
import { sharedEventExecutionPlugin } from '../realtime/shared-event-execution.ts';
import { corsPolicy } from './cors.ts';
import { compiledReadPlugin } from './compiled-read-plugin.ts';
import { requiredVariablesPlugin } from './required-variables.ts';
import { handleGraphiql } from './graphiql-page.ts';
import { refuseConnect, requestListener, sendError, type Route } from './request-listener.ts';
import { newRequestId } from './request-id.ts';

const GRAPHQL_PATH = '/graphql';
const SSE_SINGLE_CONNECTION =
  "/graphql does not take PUT. Over SSE it serves graphql-sse's distinct connections mode only (createClient's default): drop `singleConnection: true`, or subscribe over the WebSocket.";
import { createTokenWatch } from '../auth/token-watch.ts';

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
  const tokens = createTokenWatch({
    pool: services.pool,
    events: services.events,
    recheckMs: services.config.tokenRecheckMs,
    onError: (err) => services.log.warn('token recheck failed', { error: String(err) }),
  });
  const yoga = createYoga<{ connectionParams?: Record<string, unknown> }, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    landingPage: false,
    graphiql: false, // served by handleGraphiql, without a CDN
    cors: corsPolicy(services.config.corsOrigins),
    maskedErrors: { maskError: maskError(services.log) },
    plugins: [
      requestParamsPlugin(),
      nestingLimitPlugin(),
      armorPlugin(services.config.production),
      guardPlugin(services, tokens),
      requiredVariablesPlugin(),
      responseLimitsPlugin(services.config.limits),
      useGraphqlObservability(services.metrics, services.tracer, services.log, answerCode),
      sharedEventExecutionPlugin(services.metrics, services.config.limits.subscriberBufferBytes),
      // Last: every limit and the metrics above see the operation first.
      compiledReadPlugin(services),
    ],
    // Batched requests (a JSON array of operations) are accepted, at most 10 per request.
    batching: { limit: 10 },
    logging: false,
    context: async ({ request, connectionParams }) => {
      const header = (connectionParams?.authorization as string | undefined) ?? request.headers.get('authorization');
      const origin = services.config.publicUrl ?? (request.url?.startsWith('http') ? new URL(request.url).origin : '');
      const requestId = request.headers.get('x-request-id')?.slice(0, 100) || newRequestId();
      return { services, origin, requestId, ...(await principalFrom(services, header)) };
    },
  });

  const routes: Route[] = [
    (req, res) => refuseOversizedBody(req, res, services.config.limits.maxRequestBytes),
    (req, res, target) => handleHealth(req, res, target, services, opts.readyChecks),
    (req, res, target) => handleArtifactDownload(req, res, target, services),
    (req, res, target) => handleMetrics(req, res, target, services, 'api'),
    (req, res, target) => handleWebApp(req, res, target),
    (req, res, target) => handleGraphiql(req, res, target, GRAPHQL_PATH),
    (req, res, target) => {
      if (target.path !== GRAPHQL_PATH || req.method !== 'PUT') return false;
      // graphql-sse's single connection mode starts with a PUT (a stream reservation); Yoga serves the
      // distinct connections mode only (graphql-sse's default), so say that instead of a bare 405.
      sendError(res, 405, 'METHOD_NOT_ALLOWED', SSE_SINGLE_CONNECTION, { allow: 'GET, POST, OPTIONS' });
      return true;
    },
    (req, res, target) => {
      if (target.path !== GRAPHQL_PATH) return false;
      // Yoga builds its request URL from req.url: hand it the parsed form (no absolute-form, no '//').
      req.url = target.search ? `${GRAPHQL_PATH}?${target.search}` : GRAPHQL_PATH;
      return Promise.resolve(yoga.handle(req, res)); // (it may answer synchronously, with no promise)
    },
  ];
  const server = http.createServer(
    SERVER_OPTIONS,
    requestListener(services.log, routes, 'Nothing is served at this path: the API is at /graphql, the web app at /.'),
  );
  limitConnections(server, services.log);
  server.on('connect', refuseConnect);

  const wsServer = attachWebSocketServer(server, yoga, services, tokens);

  return {
    server,
    async close() {
      // Both at once: each gives its stragglers at most a few seconds (websocket-server.ts, close-server.ts).
      await Promise.all([wsServer.dispose(), closeHttpServer(server)]); // sockets get 1001 Going Away
      await yoga.dispose();
      await tokens.close();
    },
  };
}
