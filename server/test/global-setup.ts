import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { ensureTools, type Tool } from './setup/debian-tools.ts';
import { leftoverProcesses, markRunProcesses } from './setup/leftover-processes.ts';
import type { Provided } from './setup/provided.ts';
import { provideTestPostgres } from './setup/test-postgres.ts';
import { provideTestRedis } from './setup/test-redis.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** An admin connection URL of the PostgreSQL the tests create their databases on. */
    testPostgresUrl: string;
    testRedisUrl: string;
  }
}

/** Programs the tests run, each from a Debian package (see README, "Tests"). */
export function requiredTools(env: NodeJS.ProcessEnv = process.env): Tool[] {
  return [
    { command: env.CHROMIUM_PATH || '/usr/bin/chromium', debianPackage: 'chromium', neededFor: "the web app's browser tests" },
    { command: 'promtool', debianPackage: 'prometheus', neededFor: "the alerting rules' tests" },
    { command: 'redis-server', debianPackage: 'redis-server', neededFor: 'the tests that stop and restart a Redis of their own' },
    { command: 'bwrap', debianPackage: 'bubblewrap', neededFor: 'the sandbox of commands' },
    { command: 'git', debianPackage: 'git', neededFor: "the crews' workspaces" },
    { command: 'pgbouncer', debianPackage: 'pgbouncer', neededFor: 'the PgBouncer session/transaction-mode test' },
    { command: 'docker-compose', debianPackage: 'docker-compose', neededFor: 'validating docker-compose.yml' },
    // On this project's machines kubectl comes with the image (Google Cloud SDK's package of that name).
    { command: 'kubectl', debianPackage: 'kubectl', neededFor: 'rendering k8s/ with kustomize' },
  ];
}

const say = (line: string) => process.stdout.write(`[test setup] ${line}\n`);

/** A prerequisite that cannot be provided ends the run with its one sentence (not a stack trace). */
function failAtOnce(err: unknown): never {
  process.stderr.write(`\n[test setup] ${err instanceof Error ? err.message : String(err)}\n\n`);
  process.exit(1);
}

/**
 * Once before all test files: provides what the tests need (tools, PostgreSQL, Redis, the built web
 * app) and hands the services' addresses to the tests (`inject`). What it started, it stops: in the
 * returned teardown, and synchronously when the process exits early (Ctrl-C, a crash).
 */
export default async function setup(project: TestProject) {
  const started = Date.now();
  const run = markRunProcesses();
  try {
    ensureTools(requiredTools(), say);
  } catch (err) {
    failAtOnce(err);
  }
  execFileSync(process.execPath, ['scripts/build-client.mjs', '--if-stale'], { stdio: 'inherit' });

  const services: Provided[] = [];
  const stopNow = () => services.forEach((s) => s.stopNow());
  process.once('exit', stopNow);
  const stopAll = async () => {
    process.off('exit', stopNow);
    await Promise.allSettled(services.map((s) => s.stop()));
  };
  try {
    const [postgres, redis] = await Promise.allSettled([provideTestPostgres(say), provideTestRedis(say)]);
    for (const s of [postgres, redis]) if (s.status === 'fulfilled') services.push(s.value);
    for (const s of [postgres, redis]) if (s.status === 'rejected') throw s.reason;
    project.provide('testPostgresUrl', (postgres as PromiseFulfilledResult<Provided>).value.url);
    project.provide('testRedisUrl', (redis as PromiseFulfilledResult<Provided>).value.url);
  } catch (err) {
    await stopAll();
    failAtOnce(err);
  }
  say(`ready in ${Date.now() - started} ms`);
  return async () => {
    await stopAll();
    // A test run leaves no process of its own behind (runners, their children, servers).
    const left = await leftoverProcesses(run.mark);
    run.remove();
    if (left.length > 0) {
      // Fails the run (an error thrown here is only printed): name each process so it can be found.
      process.stderr.write(
        `\n[test teardown] the test run left ${left.length} process(es) running: ${left.map((p) => `${p.pid} ${p.command.slice(0, 120)}`).join('; ')}\n`,
      );
      process.exitCode = 1;
    }
  };
}
