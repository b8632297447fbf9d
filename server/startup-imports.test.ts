import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Start-up time is mostly module loading: what a server with the default configuration never uses
// must not be loaded when app.ts is (each of these cost every start 60–120 ms of CPU).
const LAZY = ['ioredis', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-http', '@graphql-yoga/render-graphiql'];

// A module hook (in the loader thread) that appends every module it loads to a file.
const HOOK = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.LOADED_LOG, url + '\\n');
  return next(url, context);
}`;

describe('start-up imports', () => {
  it('importing server/app.ts loads none of the packages only an optional feature needs', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'autodev-imports-'));
    const log = path.join(dir, 'loaded.txt');
    try {
      const script = `import { register } from 'node:module';
        register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}));
        await import('./server/app.ts');`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, LOADED_LOG: log },
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.status, r.stderr).toBe(0);
      const loaded = readFileSync(log, 'utf8').split('\n');
      expect(
        loaded.some((u) => u.endsWith('/server/app.ts')),
        'the hook saw app.ts load',
      ).toBe(true);
      expect(LAZY.filter((pkg) => loaded.some((u) => u.includes(`/node_modules/${pkg}/`)))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
