import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../logger.ts';
import { isUsableHost, parseRequestTarget, type RequestTarget } from './request-target.ts';

/**
 * One route: `false` when the request is not its own; otherwise it answers, and returns a promise
 * when it answers later (its rejection becomes a 500 like a thrown error).
 */
export type Route = (req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget) => boolean | Promise<unknown>;

/** A JSON error answer: `{ error, code }`. */
export function sendError(res: http.ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ error: message, code }));
}

/**
 * The request listener of every AutoDev HTTP server: parses the target once (400 when it is not a
 * path, or the Host header is not a host), tries the routes in order, answers 404 when none takes
 * the request, and turns any failure of a route — thrown or rejected — into a 500, never a process exit.
 */
export function requestListener(log: Logger, routes: Route[], notFoundMessage: string) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    const target = parseRequestTarget(req.url);
    if (!target) {
      sendError(res, 400, 'BAD_REQUEST', 'The request target must be a path, such as /graphql.');
      return;
    }
    if (!isUsableHost(req.headers.host)) {
      sendError(res, 400, 'BAD_REQUEST', 'The Host header is not a valid host name.');
      return;
    }
    const fail = (err: unknown) => {
      log.error('HTTP handler failed', {
        method: req.method,
        path: target.path.slice(0, 200),
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
      if (!res.headersSent)
        sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'The server failed to answer this request; the details are in its log.', {
          connection: 'close',
        });
      else res.destroy();
    };
    try {
      for (const route of routes) {
        const answered = route(req, res, target);
        if (answered instanceof Promise) answered.catch(fail);
        if (answered) return;
      }
      sendError(res, 404, 'NOT_FOUND', notFoundMessage);
    } catch (err) {
      fail(err);
    }
  };
}

/** `CONNECT` (a proxy tunnel) is not served; Node would otherwise drop the connection without a word. */
export function refuseConnect(_req: http.IncomingMessage, socket: Duplex) {
  socket.on('error', () => {});
  socket.end('HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD, POST, OPTIONS\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
}
