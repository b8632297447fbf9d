import type http from 'node:http';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer, type WebSocket } from 'ws';
import type { GraphQLContext } from '../schema/context.ts';
import type { Services } from '../services.ts';
import { principalFrom } from './authenticate-request.ts';

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

export interface WebSocketApi {
  /** Closes every socket with 1001 Going Away. */
  dispose(): void | Promise<void>;
}

/** graphql-ws (`graphql-transport-ws`) on `/graphql` of the API's HTTP server, executing through Yoga's envelop. */
export function attachWebSocketServer(
  server: http.Server,
  yoga: YogaServerInstance<{ connectionParams?: Record<string, unknown> }, GraphQLContext>,
  services: Services,
): WebSocketApi {
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: services.config.limits.maxRequestBytes });

  return useServer<Record<string, unknown>>(
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
}
