import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

export interface AutodevProcess {
  role: 'api' | 'worker';
  child: ChildProcess;
  /** Base URL (API processes). */
  url?: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node --import tsx server/main.ts` as its own process with AUTODEV_ROLE, as a Deployment's pod runs it. */
export async function startAutodevProcess(role: 'api' | 'worker', env: Record<string, string>): Promise<AutodevProcess> {
  const dataDir = await mkdtemp(path.join(tmpdir(), `autodev-${role}-`));
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { PATH: process.env.PATH, AUTODEV_ROLE: role, PORT: '0', HOST: '127.0.0.1', AUTODEV_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      void rm(dataDir, { recursive: true, force: true });
      resolve({ code, signal });
    }),
  );
  const ready = role === 'api' ? /GraphQL \+ GraphiQL: (\S+)\/graphql/ : /AutoDev worker is running/;
  const started = Date.now();
  while (!ready.test(out)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${role} exited during start-up: ${out}`);
    // Generous: loading the TypeScript sources took 45 s for one process at load 24 on 2 cores.
    if (Date.now() - started > 180_000) throw new Error(`${role} not ready after 180 s: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    role,
    child,
    url: role === 'api' ? ready.exec(out)![1].replace('localhost', '127.0.0.1') : undefined,
    output: () => out,
    exited,
    kill(signal) {
      child.kill(signal);
      return exited;
    },
  };
}
