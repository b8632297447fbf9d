import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './free-port.ts';

/**
 * A redis-server of the caller's own on a free port (not a shared one), so that it can be stopped and
 * restarted. A port taken between the check and the start is retried on another one.
 */
export async function startRedisProcess() {
  let port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s: ${out.trim()}`)), 10_000);
      proc.stdout.on('data', (d) => {
        out += d;
        if (!/Ready to accept connections/.test(out)) return;
        clearTimeout(timer);
        resolve();
      });
      proc.on('error', (err) => {
        clearTimeout(timer);
        reject(
          new Error(`redis-server could not be started (${err.message}); install it: apt-get install -y redis-server`, { cause: err }),
        );
      });
      proc.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}): ${out.trim().split('\n').slice(-3).join(' ')}`));
      });
    });
  };
  const stop = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };
  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      break;
    } catch (err) {
      if (attempt >= 5 || !/Address already in use/.test((err as Error).message)) throw err;
      port = await freePort();
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    /** Synchronous, for a process that is exiting (no await possible there). */
    stopNow: () => void child?.kill('SIGKILL'),
  };
}
