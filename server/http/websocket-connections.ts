import type { Duplex } from 'node:stream';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type http from 'node:http';
import type { Logger } from '../logger.ts';

/** What each connection's operations see of it (graphql-ws' `ctx.extra`). */
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

/**
 * graphql-ws' protocol (its `makeServer`: init, ack, subscribe, the close codes) on the sockets
 * `wss` emits, in place of its `useServer` glue, which per connection kept the upgrade request
 * (its headers and raw headers, ~1 KB), two timers and their closures, and per operation an async
 * message handler suspended with the message's buffer for as long as a subscription lived. Here a
 * connection keeps its socket and stream; one interval pings every socket each `keepAliveMs` and
 * terminates one that did not answer the previous ping (after keepAliveMs to twice that).
 */
export function serveGraphqlWs<P extends Record<string, unknown>>(
  wss: WebSocketServer,
  options: ServerOptions<P, ConnectionExtra>,
  log: Logger,
  keepAliveMs = 12_000,
) {
  const server = makeServer(options);
  wss.options.handleProtocols = handleProtocols;

  const internalError = (socket: WebSocket, what: string, err: unknown) => {
    log.error(`WebSocket ${what} failed`, { error: err instanceof Error ? err.message : String(err) });
    socket.close(CloseCode.InternalServerError, 'Internal server error');
  };
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
    socket.once('error', (err) => internalError(socket, 'socket', err));
    socket.on('pong', onPong);
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) resolve();
            else socket.send(data, (err) => (err ? reject(err) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        // Not an async handler: a subscription's handling stays pending while it lives, and an
        // async wrapper would keep its frame (and the message's buffer) that long as well.
        onMessage: (handle) =>
          socket.on('message', (data) => {
            // One Buffer per message: the server's sockets keep ws' default binaryType ('nodebuffer').
            handle((data as Buffer).toString('utf8')).catch((err: unknown) => internalError(socket, 'message handling', err));
          }),
      },
      { socket, stream },
    );
    socket.once('close', (code, reason) => void closed(code, String(reason)));
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
