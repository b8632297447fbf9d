import type http from 'node:http';
import { GraphQLError, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Duplex } from 'node:stream';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';
import type { TokenWatch } from '../auth/token-watch.ts';
import type { GraphQLContext } from '../schema/context.ts';
import type { Services } from '../services.ts';
import { principalFrom } from './authenticate-request.ts';
import { maskError } from './mask-error.ts';
import { type Enveloped } from './operation-args.ts';
import { admitWebSockets } from './websocket-admission.ts';
import type { PushTarget } from '../realtime/shared-event-execution.ts';
import type { SubscriptionGroup } from '../realtime/subscription-group.ts';
import { closeReason, serveGraphqlWs } from './websocket-connections.ts';
import { SocketMember, type MaskError, type Operations, type SlowSubscriberPolicy } from './websocket-delivery.ts';

const isAsyncIterable = (x: unknown): x is AsyncIterable<ExecutionResult> =>
  typeof x === 'object' && x !== null && Symbol.asyncIterator in x;

/** Close code for a WebSocket whose client stopped reading (see jobEventStream's bound). */
export const SLOW_SUBSCRIBER_CLOSE_CODE = 1008; // Policy Violation

/**
 * Close code for a connection without a valid token (missing, unknown, revoked, expired), sent at
 * `connection_init` and when the token of an open connection is revoked or expires. 4401
 * Unauthorized, not graphql-ws's default 4403 Forbidden: the graphql-ws client treats 4401 as final
 * and gives up at once, whereas it retries 4403 (about 30 s with its default 5 attempts), and
 * retrying cannot make a bad token good.
 */
export const UNAUTHENTICATED_CLOSE_CODE = 4401;

function closeSlowSocket(socket: WebSocket, reason: string) {
  socket.close(SLOW_SUBSCRIBER_CLOSE_CODE, closeReason(reason));
  // The close frame waits behind what the client has not read yet: a client that reads again
  // within 10 s sees 1008 and the reason; one that does not is cut off (its buffers freed).
  setTimeout(() => socket.terminate(), 10_000).unref();
}

/**
 * Closes a connection whose token ended, once its operations have sent their own error (each ends
 * with UNAUTHENTICATED through the guard plugin), or after a second at the latest.
 */
function closeWhenOperationsEnded(socket: WebSocket, subscriptions: Record<string, unknown>, reason: string) {
  const started = Date.now();
  const poll = setInterval(() => {
    if (Object.keys(subscriptions).length > 0 && Date.now() - started < 1000) return;
    clearInterval(poll);
    socket.close(UNAUTHENTICATED_CLOSE_CODE, closeReason(reason));
  }, 20);
  poll.unref();
}

/**
 * The request a WebSocket operation's context is built from (see `context` in create-server.ts):
 * its token comes in connectionParams, and no header is read. One for all operations, read only.
 */
const NO_REQUEST = { headers: new Headers() };

/**
 * How long a socket the server closes (1001 on shutdown, 1008, 4401, ...) waits for the peer's close
 * frame before it is cut. ws' default, 30 s, let one peer whose network vanished hold a SIGTERM's
 * drain until the 30 s exit watchdog ended the process with 1, the worker and PostgreSQL not stopped.
 */
const CLOSE_HANDSHAKE_MS = 5_000;

export interface WebSocketApi {
  /** Closes every socket with 1001 Going Away; resolves once each has closed (at most CLOSE_HANDSHAKE_MS). */
  dispose(): void | Promise<void>;
}

/** `graphql-transport-ws` (graphql-transport-ws.ts) on `/graphql` of the API's HTTP server, executing through Yoga's envelop. */
export function attachWebSocketServer(
  server: http.Server,
  yoga: YogaServerInstance<{ connectionParams?: Record<string, unknown> }, GraphQLContext>,
  services: Services,
  tokens: TokenWatch,
): WebSocketApi {
  // closeTimeout is ws' own option (ws ≥ 8.23, package.json's floor); @types/ws does not list it yet.
  const options: ServerOptions & { closeTimeout: number } = {
    noServer: true,
    path: '/graphql',
    maxPayload: services.config.limits.maxRequestBytes,
    closeTimeout: CLOSE_HANDSHAKE_MS,
  };
  const wss = new WebSocketServer(options);
  const admission = admitWebSockets(server, wss, services.config.websocket);
  const mask = maskError(services.log);
  const watchOf = new WeakMap<object, { stop(): void }>();
  const slowSubscribers: SlowSubscriberPolicy = {
    maxPendingBytes: services.config.limits.subscriberBufferBytes,
    close: closeSlowSocket,
  };

  const api = serveGraphqlWs(
    wss,
    {
      // A socket that never sends connection_init is closed with 4408 after this wait; one that
      // sends it without a valid token is closed with 4401. No unauthenticated socket stays open.
      connectionInitWaitTimeout: services.config.websocket.initTimeoutMs,
      execute: (args) => (args.rootValue as Enveloped).execute(args),
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args),
      onConnect: async (ctx) => {
        const sent = ctx.connectionParams?.authorization;
        const header = typeof sent === 'string' && sent ? sent : null;
        const { principal, authError } = await principalFrom(services, header);
        if (!principal) {
          const reason = header ? authError!.message : 'Send an API token in connectionParams: { authorization: "Bearer <token>" }.';
          ctx.extra.socket.close(UNAUTHENTICATED_CLOSE_CODE, closeReason(reason));
          return false;
        }
        // Closed while its token was being checked: onClose has run already, so nothing would unwatch.
        if (ctx.extra.socket.readyState !== ctx.extra.socket.OPEN) return false;
        watchOf.set(
          ctx,
          tokens.watch(principal, (err) => closeWhenOperationsEnded(ctx.extra.socket, ctx.subscriptions, err.message)),
        );
        return true;
      },
      onClose: (ctx) => watchOf.get(ctx)?.stop(),
      onSubscribe: async (ctx, id, payload) => {
        const {
          schema: s,
          execute,
          subscribe,
          contextFactory,
          parse,
          validate,
        } = yoga.getEnveloped({
          ...ctx,
          socket: ctx.extra.socket,
          params: payload,
          connectionParams: ctx.connectionParams,
          request: NO_REQUEST,
        } as never) as Enveloped;
        // A bad operation is answered with an `error` message for its id (codes as over HTTP);
        // an exception here would close the whole connection (4500) and every other operation on it.
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (err) {
          return [operationError(mask, err, 'GRAPHQL_PARSE_FAILED')];
        }
        const errors = validate(s, document);
        if (errors.length > 0) return errors.map((e: unknown) => operationError(mask, e, 'GRAPHQL_VALIDATION_FAILED'));
        try {
          return {
            schema: s,
            operationName: payload.operationName,
            document,
            variableValues: payload.variables ?? undefined,
            contextValue: { ...(await contextFactory()), closeConnection: (reason: string) => closeSlowSocket(ctx.extra.socket, reason) },
            rootValue: new OperationRoot(
              execute,
              subscribe,
              ctx.extra.socket,
              ctx.extra.stream,
              id,
              ctx.subscriptions,
              slowSubscribers,
              mask,
            ),
          };
        } catch (err) {
          return [operationError(mask, err)];
        }
      },
    },
    services.log,
  );
  return {
    async dispose() {
      admission.stop();
      await api.dispose();
    },
  };
}

/**
 * The root value of one WebSocket operation: how the protocol (see `execute`/`subscribe` in
 * attachWebSocketServer) runs it through Yoga's envelop. A subscription's results are written to
 * the socket by its SocketMember, which joins the subscription's group (see PushTarget in
 * realtime/shared-event-execution.ts), not by the protocol. A class, not an object of closures:
 * under tsx every named closure costs ~300 bytes for as long as the subscription lives.
 */
class OperationRoot implements PushTarget {
  private member: SocketMember | null = null;

  constructor(
    readonly execute: Enveloped['execute'],
    private readonly enveloped: Enveloped['subscribe'],
    private readonly socket: WebSocket,
    private readonly stream: Duplex,
    private readonly id: string,
    private readonly operations: Operations,
    private readonly policy: SlowSubscriberPolicy,
    private readonly mask: MaskError,
  ) {}

  joinGroup(group: SubscriptionGroup): SocketMember | null {
    this.member ??= new SocketMember(this.socket, this.stream, this.id, this.operations, this.policy, this.mask);
    return this.member.joinGroup(group);
  }

  async subscribe(args: ExecutionArgs) {
    const result = await this.enveloped(args);
    const member = this.member;
    this.member = null;
    if (!member?.joined || !isAsyncIterable(result)) return result;
    // A member that ends itself (see SocketMember.endWith) is what the protocol holds: envelop's
    // wrappers around it, which it would keep for its life, are dropped unread (they are lazy).
    // Otherwise the protocol holds the member behind them.
    const held = member.endsItself ? member : result;
    member.claim(held);
    return held;
  }
}

/**
 * The error as an HTTP client would get it (masked, with `extensions.code`); `clientCode` names a
 * client's mistake more precisely than the mask's generic BAD_USER_INPUT.
 */
function operationError(mask: (err: unknown, message: string) => Error, err: unknown, clientCode?: string): GraphQLError {
  const masked = mask(err instanceof Error ? err : new Error(String(err)), 'Unexpected error.');
  const base = masked instanceof GraphQLError ? masked : new GraphQLError(masked.message);
  const code =
    clientCode && (!base.extensions.code || base.extensions.code === 'BAD_USER_INPUT')
      ? clientCode
      : (base.extensions.code ?? 'INTERNAL_SERVER_ERROR');
  return new GraphQLError(base.message, {
    nodes: base.nodes,
    source: base.source,
    positions: base.positions,
    extensions: { ...base.extensions, code },
  });
}
