import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../db/embedded-postgres.ts';
import type { Provided } from './provided.ts';

export const DEFAULT_TEST_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Null when the server at `url` answers a query within 3 s, else the reason it did not. */
export async function postgresProblem(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

function sleepSync(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Until the process is gone or a zombie (it is our child: nobody reaps it while we block). */
function waitForExitSync(pid: number, ms: number) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return;
      process.kill(pid, 0);
    } catch {
      return;
    }
    sleepSync(50);
  }
}

/**
 * The PostgreSQL the tests create their databases on: TEST_POSTGRES_URL when it answers, else an
 * embedded PostgreSQL (the product's own dependency) of this run, in a temporary directory.
 */
export async function provideTestPostgres(say: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<Provided> {
  const wanted = env.TEST_POSTGRES_URL || DEFAULT_TEST_POSTGRES_URL;
  const problem = await postgresProblem(wanted);
  if (!problem) return { url: wanted, stop: async () => {}, stopNow: () => {} };

  say(`PostgreSQL at ${wanted} does not answer (${problem}); starting an embedded PostgreSQL for this run`);
  const started = Date.now();
  const dir = mkdtempSync(path.join(tmpdir(), 'autodev-test-pg-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  try {
    const db = await startEmbeddedPostgres(dir, say, {
      persistent: false,
      // A throwaway server: durability buys nothing, and the suite opens many pools at once.
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '400' },
    });
    const url = new URL(db.url);
    url.pathname = '/postgres';
    say(`embedded PostgreSQL is up at 127.0.0.1:${url.port} (${Date.now() - started} ms, data in ${dir})`);
    return {
      url: url.toString(),
      stop: async () => {
        await db.stop();
        removeDir();
      },
      stopNow: () => {
        // Immediate shutdown: the postmaster stops its backends and exits without a checkpoint.
        if (db.pid) {
          try {
            process.kill(db.pid, 'SIGQUIT');
            waitForExitSync(db.pid, 5000);
          } catch {
            /* already gone */
          }
        }
        removeDir();
      },
    };
  } catch (err) {
    removeDir();
    throw new Error(`PostgreSQL is needed and neither ${wanted} answers nor could an embedded one start: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
