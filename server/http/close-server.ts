import type http from 'node:http';

/**
 * How long a stopping server lets requests in flight finish before it cuts every connection left.
 * Node stops enforcing headersTimeout and requestTimeout once `server.close()` is called, so without
 * a cut a request whose headers or body never finish, or an open SSE subscription, held the drain
 * until the 30 s exit watchdog ended the process with 1 (stop-signals.test.ts).
 */
export const DRAIN_GRACE_MS = 5_000;

/**
 * Stops `server` accepting connections, closes its idle keep-alive connections now and, after
 * `graceMs`, every HTTP connection still open (SSE streams, unfinished requests). Resolves once the
 * server has closed; its upgraded WebSockets are closed by their own server (websocket-server.ts).
 */
export function closeHttpServer(server: http.Server, graceMs = DRAIN_GRACE_MS): Promise<void> {
  return new Promise((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}
