import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startApp, type RunningApp } from '../app.ts';
import { ensureProject } from '../auth/bootstrap.ts';
import { createApiToken, generateSecret } from '../auth/tokens.ts';
import type { Role } from '../auth/roles.ts';
import { loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { seedTemplates } from '../templates/seed-templates.ts';
import { createTestDatabase } from './database.ts';

export interface GqlResult<T = any> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string; [k: string]: unknown }; path?: (string | number)[] }[];
}

export interface TestServer {
  app: RunningApp;
  url: string;
  databaseUrl: string;
  adminToken: string;
  gql: <T = any>(query: string, variables?: Record<string, unknown>, token?: string | null) => Promise<GqlResult<T>>;
  /** A new token of the given role, in the default project or another one (created on demand). */
  token: (role: Role, projectSlug?: string) => Promise<string>;
  ws: (token?: string | null) => Client;
  close(): Promise<void>;
}

export async function gqlRequest<T = any>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  token?: string | null,
): Promise<GqlResult<T>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GqlResult<T>;
}

/** Starts the whole product (API, and the worker when `worker` is set) on a fresh database. */
export async function startTestServer(
  opts: {
    redisUrl?: string;
    databaseUrl?: string;
    role?: 'api' | 'worker' | 'all';
    adminToken?: string;
    env?: Record<string, string>;
    /** Collects every log line (at debug level) instead of discarding them. */
    logLines?: string[];
  } = {},
): Promise<TestServer> {
  const db = opts.databaseUrl ? null : await createTestDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'autodev-test-'));
  const databaseUrl = opts.databaseUrl ?? db!.url;
  const adminToken = opts.adminToken ?? generateSecret();
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    AUTODEV_ADMIN_TOKEN: adminToken,
    AUTODEV_ROLE: opts.role ?? 'api',
    AUTODEV_DATA_DIR: dataDir,
    AUTODEV_SIGNING_KEY: 'test-signing-key',
    AUTODEV_RETRY_BASE_MS: '100',
    ...(opts.redisUrl ? { REDIS_URL: opts.redisUrl } : {}),
    ...opts.env,
  });
  const logger = opts.logLines
    ? createLogger('debug', {}, { write: (line: string) => void opts.logLines!.push(line) })
    : createLogger(process.env.TEST_LOG_LEVEL || 'silent');
  const app = await startApp(config, logger);
  const url = app.url!;
  const clients: Client[] = [];
  return {
    app,
    url,
    databaseUrl,
    adminToken,
    gql: (query, variables, token = adminToken) => gqlRequest(url, query, variables, token),
    async token(role, projectSlug = 'default') {
      const projectId = await ensureProject(app.services.pool, projectSlug, projectSlug);
      if (projectSlug !== 'default') await seedTemplates(app.services.pool, projectId);
      return (await createApiToken(app.services.pool, { projectId, name: `${role.toLowerCase()}-${projectSlug}`, role })).secret;
    },
    ws(token = adminToken) {
      const client = createClient({
        url: url.replace('http', 'ws') + '/graphql',
        webSocketImpl: WebSocket,
        connectionParams: token ? { authorization: `Bearer ${token}` } : {},
        retryAttempts: 0,
        lazy: true,
      });
      clients.push(client);
      return client;
    },
    async close() {
      // dispose() may answer void or a promise; await each.
      await Promise.all(
        clients.map(async (c) => {
          await c.dispose();
        }),
      );
      await app.stop();
      await db?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Subscribes and collects results until `until` says stop (or times out with what it has). */
export function collect<T = any>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  until: (items: T[]) => boolean,
  timeoutMs = 15_000,
): { done: Promise<T[]>; ready: Promise<void>; items: T[]; errors: unknown[] } {
  const items: T[] = [];
  const errors: unknown[] = [];
  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => (readyResolve = r));
  const done = new Promise<T[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(
        new Error(
          `subscription timed out with ${items.length} items: ${JSON.stringify(items).slice(0, 2000)} errors: ${JSON.stringify(errors)}`,
        ),
      );
    }, timeoutMs);
    const unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          if (value.errors) errors.push(...value.errors);
          if (value.data) items.push(value.data);
          if (until(items)) {
            clearTimeout(timer);
            unsubscribe();
            resolve(items);
          }
        },
        error: (err) => {
          clearTimeout(timer);
          errors.push(err);
          reject(err instanceof Error ? err : new Error(JSON.stringify(err)));
        },
        complete: () => {
          clearTimeout(timer);
          resolve(items);
        },
      },
    );
    // graphql-ws has no "subscribed" ack; the server subscribes before answering a following ping.
    client.on('connected', () => setTimeout(readyResolve, 150));
  });
  return { done, ready, items, errors };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Publishes a probe (`probe`, which throws when it could not publish) until `received` says one
 * arrived, waiting up to 500 ms after each. A subscription without a replay (projectEvents) misses
 * what is published before its server has it live (its bus listener, a Redis channel), and
 * graphql-ws acknowledges no subscribe: a fixed wait is a guess that a loaded machine can lose (a
 * CI run missed RUNNING after a 500 ms wait).
 */
export async function untilLive(received: () => boolean, probe: () => Promise<unknown>, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!received()) {
    if (Date.now() - started > timeoutMs) throw new Error(`the subscription received none of the probes published over ${timeoutMs} ms`);
    await probe();
    for (const until = Date.now() + 500; !received() && Date.now() < until;) await sleep(20);
  }
}
