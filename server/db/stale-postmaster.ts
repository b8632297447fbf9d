import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * PostgreSQL runs in a session of its own, so when AutoDev dies without stopping it (`kill -9`, a crash of
 * Node itself), the server keeps running and holds its data directory. The process that started it is
 * written beside the data directory (`<dir>.owner`); the next start stops a server whose owner is gone.
 * A server whose owner still runs (another AutoDev on the same AUTODEV_DATA_DIR) is left alone.
 */
export function recordOwner(databaseDir: string): void {
  writeFileSync(`${databaseDir}.owner`, String(process.pid));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The postmaster of `databaseDir` (its command line names the directory), not another process that took its pid. */
function isPostmasterOf(pid: number, databaseDir: string): boolean {
  try {
    return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).includes(`-D ${databaseDir} `);
  } catch {
    return false;
  }
}

/** Stops (fast shutdown) a server left running on `databaseDir` by an AutoDev that no longer runs; returns its pid. */
export async function stopOrphanedPostmaster(databaseDir: string): Promise<number | undefined> {
  const lockFile = `${databaseDir}/postmaster.pid`;
  const pid = readPid(lockFile);
  if (pid === undefined || !alive(pid) || !isPostmasterOf(pid, databaseDir)) return undefined;
  const owner = readPid(`${databaseDir}.owner`);
  if (owner === undefined || alive(owner)) return undefined;
  process.kill(pid, 'SIGINT');
  // Done when it removed its lock file (or is gone: its new parent may never reap it).
  for (let waited = 0; alive(pid) && existsSync(lockFile) && waited < 30_000; waited += 50) await sleep(50);
  return pid;
}
