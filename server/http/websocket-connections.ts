import type { Duplex } from 'node:stream';
import { CloseCode, handleProtocols } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type http from 'node:http';
import type { Logger } from '../logger.ts';
import { ProtocolConnection, type ProtocolHooks, type ProtocolSocket } from './graphql-transport-ws.ts';

/** What each connection's operations see of it (`ctx.extra`, see ConnectionContext). */
export interface ConnectionExtra {
  socket: WebSocket;
  /** The upgraded request's socket, written to directly by SocketMember. */
  stream: Duplex;
}

/** Sockets pinged at the last keep-alive tick that have not answered yet. */
const awaitingPong = new WeakSet<WebSocket>();

function onPong(this: WebSocket) {
  awaitingPong.delete(this);
}

/** A close frame's reason is at most 123 bytes: a longer one (a client's long operation id in 4409's) is cut. */
export function closeReason(text: string): string {
  const bytes = Buffer.from(text);
  return bytes.length <= 123
    ? text
    : bytes
        .subarray(0, 120)
        .toString('utf8')
        .replace(/\uFFFD*$/, '') + '…';
}

/** Each socket's protocol state (read by the socket's shared listeners below, whose `this` is the socket). */
const connections = new WeakMap<WebSocket, ProtocolConnection<ConnectionExtra>>();

function onMessage(this: WebSocket, data: Buffer) {
  const connection = connections.get(this);
  // One Buffer per message: the server's sockets keep ws' default binaryType ('nodebuffer').
  connection?.handle(data.toString('utf8')).catch((err: unknown) => connection.failed(err));
}

function onError(this: WebSocket, err: Error) {
  connections.get(this)?.failed(err, 'socket');
}

function onClose(this: WebSocket, code: number, reason: Buffer) {
  const connection = connections.get(this);
  connection?.closed(code, String(reason)).catch((err: unknown) => connection.failed(err, 'close'));
}

/** The protocol's view of a ws socket (see ProtocolSocket). */
class SocketSide implements ProtocolSocket {
  constructor(
    private readonly socket: WebSocket,
    private readonly log: Logger,
  ) {}

  fail(what: string, err: unknown) {
    this.logError(what, err);
    this.socket.close(CloseCode.InternalServerError, 'Internal server error');
  }

  logError(what: string, err: unknown) {
    this.log.error(`WebSocket ${what} failed`, { error: err instanceof Error ? err.message : String(err) });
  }

  get protocol() {
    return this.socket.protocol;
  }

  send(data: string): Promise<void> {
    const socket = this.socket;
    return new Promise<void>((resolve, reject) => {
      if (socket.readyState !== socket.OPEN) resolve();
      else socket.send(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(code: number, reason: string) {
    this.socket.close(code, closeReason(reason));
  }
}

/**
 * The graphql-transport-ws protocol (graphql-transport-ws.ts: init, ack, subscribe, the close codes)
 * on the sockets `wss` emits. A connection keeps its socket, stream and protocol state, with
 * listeners shared by every socket; not the upgrade request (graphql-ws' `useServer` kept its
 * headers and raw headers, ~1 KB), nor timers per connection: one interval pings every socket each
 * `keepAliveMs` and terminates one that did not answer the previous ping (after keepAliveMs to
 * twice that).
 */
export function serveGraphqlWs(wss: WebSocketServer, hooks: ProtocolHooks<ConnectionExtra>, log: Logger, keepAliveMs = 12_000) {
  wss.options.handleProtocols = handleProtocols;
  wss.on('error', (err) => {
    log.error('WebSocket server error', { error: err.message });
    for (const socket of wss.clients) socket.close(CloseCode.InternalServerError, 'Internal server error');
  });

  const keepAlive = setInterval(() => {
    for (const socket of wss.clients) {
      if (socket.readyState !== socket.OPEN) continue;
      if (awaitingPong.has(socket)) socket.terminate();
      else {
        awaitingPong.add(socket);
        socket.ping();
      }
    }
  }, keepAliveMs);
  keepAlive.unref();

  wss.on('connection', (socket: WebSocket, request: http.IncomingMessage) => {
    const stream = request.socket; // and not the request: nothing here keeps it
    connections.set(socket, new ProtocolConnection(new SocketSide(socket, log), { socket, stream }, hooks));
    // `on`, not `once`: the same for events that come once, without a wrapper per socket.
    socket.on('error', onError);
    socket.on('pong', onPong);
    socket.on('message', onMessage);
    socket.on('close', onClose);
  });

  return {
    async dispose() {
      clearInterval(keepAlive);
      for (const socket of wss.clients) socket.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
