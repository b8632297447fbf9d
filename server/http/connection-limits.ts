import { readFileSync } from 'node:fs';
import type http from 'node:http';
import type { Logger } from '../logger.ts';

/**
 * Connections a process accepts are bounded by its file descriptors. Without a bound, a few
 * hundred connections that never finish their headers (no token needed) used every descriptor:
 * new connections were not accepted, and PostgreSQL, Redis, artifact files and runner pipes would
 * fail with EMFILE. Now the HTTP servers keep a quarter of the descriptors (at least 256) for
 * everything else, drop connections beyond that at once, and end requests whose headers take
 * over 10 s (Node's default: 60 s, checked every 30 s).
 */
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 60_000;

/** Options for http.createServer: timeouts for receiving a request (answers, SSE streams and WebSockets are not limited by them). */
export const SERVER_OPTIONS: http.ServerOptions = {
  headersTimeout: HEADERS_TIMEOUT_MS,
  requestTimeout: REQUEST_TIMEOUT_MS,
  connectionsCheckingInterval: 1000,
};

/** The soft limit on open files from the text of /proc/self/limits; null when it is not there or unlimited. */
export function openFileLimit(limits = readProcLimits()): number | null {
  const match = /^Max open files\s+(\d+)/m.exec(limits ?? '');
  return match ? Number(match[1]) : null;
}

function readProcLimits(): string | null {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return null; // not Linux: no bound from here
  }
}

/** Connections one server may hold with `fdLimit` descriptors: all but a quarter of them (at least 256 kept), never under half. */
export function connectionCap(fdLimit: number): number {
  return Math.max(Math.floor(fdLimit / 2), fdLimit - Math.max(256, Math.floor(fdLimit / 4)));
}

/** Connections the ops server (probes and scrapers) holds at most, so that it takes little from the API's share. */
export const OPS_MAX_CONNECTIONS = 64;

/** Applies the cap to a server (WebSockets count: an upgraded socket stays the server's connection); `atMost` caps it further. */
export function limitConnections(server: http.Server, log: Logger, atMost = Infinity, fdLimit = openFileLimit()): void {
  if (fdLimit === null && atMost === Infinity) return;
  server.maxConnections = Math.min(atMost, fdLimit === null ? Infinity : connectionCap(fdLimit));
  let lastWarning = 0;
  server.on('drop', () => {
    if (Date.now() - lastWarning < 10_000) return;
    lastWarning = Date.now();
    log.warn('connection refused: the server holds its maximum of connections', {
      maxConnections: server.maxConnections,
      openFiles: fdLimit,
    });
  });
}
