import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';

/**
 * Close code when this process holds its maximum of WebSockets: 1013 Try Again Later. The graphql-ws
 * client retries it (with backoff), which is right: another API process, or this one a little
 * later, may have room.
 */
export const SERVER_FULL_CLOSE_CODE = 1013;

/**
 * Close code when one remote address holds its maximum of WebSockets: 4429 (graphql-ws's "too
 * many" code). The graphql-ws client treats it as final: retrying would only add to the load the
 * same client already causes; it has to close some of its own connections first.
 */
export const TOO_MANY_FROM_ADDRESS_CLOSE_CODE = 4429;

export interface WebSocketLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

/**
 * Upgrades requests for the WebSocket server's path and admits each connection only within the
 * caps (per process, per remote address); a refused one is accepted only to be closed at once
 * with a code and a reason sentence, so clients can tell why. Behind a proxy every client shares
 * the proxy's address: raise the per-address cap there (or set it to 0 to turn it off).
 */
export function admitWebSockets(server: http.Server, wss: WebSocketServer, limits: WebSocketLimits) {
  let open = 0;
  const perAddress = new Map<string, number>();

  const refusal = (address: string): { code: number; reason: string } | null => {
    if (limits.maxConnections > 0 && open >= limits.maxConnections) {
      return {
        code: SERVER_FULL_CLOSE_CODE,
        reason: `This server holds its maximum of ${limits.maxConnections} WebSocket connections; try again later.`,
      };
    }
    if (limits.maxConnectionsPerAddress > 0 && (perAddress.get(address) ?? 0) >= limits.maxConnectionsPerAddress) {
      return {
        code: TOO_MANY_FROM_ADDRESS_CLOSE_CODE,
        reason: `Too many WebSocket connections from your address (at most ${limits.maxConnectionsPerAddress}); close some first.`,
      };
    }
    return null;
  };

  // Outside admit: its close listener lives as long as the connection, and a closure made inside
  // admit would keep admit's scope with it (the upgrade request, its headers, the handshake's head).
  const count = (ws: WebSocket, address: string) => {
    open++;
    perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
    ws.once('close', () => {
      open--;
      const n = (perAddress.get(address) ?? 1) - 1;
      if (n <= 0) perAddress.delete(address);
      else perAddress.set(address, n);
    });
  };

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy()); // a client that resets mid-handshake is no error of ours
    try {
      admit(req, socket, head);
    } catch {
      socket.destroy(); // an upgrade request ws cannot even answer: never the process's end
    }
  };
  const admit = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    // handleUpgrade answers 400 for another path or a malformed handshake.
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const address = req.socket.remoteAddress ?? 'unknown';
      const refused = refusal(address);
      if (refused) {
        ws.close(refused.code, refused.reason);
        setTimeout(() => ws.terminate(), 2000).unref(); // a client that never answers the close
        return;
      }
      count(ws, address);
      wss.emit('connection', ws, req);
    });
  };
  server.on('upgrade', onUpgrade);
  return {
    /** Open admitted connections (for tests and metrics). */
    open: () => open,
    stop: () => void server.off('upgrade', onUpgrade),
  };
}
