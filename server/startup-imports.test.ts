import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileServer } from '../scripts/compile-server.mjs';
import { bundleServer } from '../scripts/bundle-server.mjs';

// Start-up time is mostly module loading: what a server with the default configuration never uses
// must not be loaded when app.ts is (each of these cost every start 60–120 ms of CPU).
const LAZY = ['ioredis', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-http', '@graphql-yoga/render-graphiql'];
// Nor what nothing uses before a template, a job or a runner's output arrives (ajv: ~130 ms).
const FIRST_USE = ['ajv'];

// A module hook (in the loader thread) that appends every module it loads to a file.
const HOOK = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.LOADED_LOG, url + '\\n');
  return next(url, context);
}`;

/** The modules loaded by importing `module` (with `node` options `args`). */
function modulesLoadedBy(module: string, args: string[] = []): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'autodev-imports-'));
  const log = path.join(dir, 'loaded.txt');
  try {
    const script = `import { register } from 'node:module';
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}));
      await import(${JSON.stringify(module)});`;
    const r = spawnSync(process.execPath, [...args, '--input-type=module', '-e', script], {
      env: { ...process.env, LOADED_LOG: log },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    return readFileSync(log, 'utf8').split('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('start-up imports', () => {
  it('importing server/app.ts loads none of the packages only an optional feature needs', () => {
    const loaded = modulesLoadedBy('./server/app.ts', ['--import', 'tsx']);
    expect(
      loaded.some((u) => u.endsWith('/server/app.ts')),
      'the hook saw app.ts load',
    ).toBe(true);
    expect([...LAZY, ...FIRST_USE].filter((pkg) => loaded.some((u) => u.includes(`/node_modules/${pkg}/`)))).toEqual([]);
  }, 150_000);
});

// `npm start` runs the server bundled (scripts/bundle-server.mjs): built into a directory of its own here.
describe('the server bundle npm start runs', () => {
  const compiled = mkdtempSync(path.join(tmpdir(), 'autodev-bundle-'));
  let first: { entry: string; built: boolean };
  beforeAll(async () => {
    await compileServer(compiled);
    first = await bundleServer(compiled);
  }, 150_000);
  afterAll(() => rmSync(compiled, { recursive: true, force: true }));

  it('holds the packages that made most of the modules, and loads none that only an optional feature needs', () => {
    // main.js loads the app's chunk with import(), as main.ts imports app.ts.
    const app = /import\("\.\/(app-\w+\.js)"\)/.exec(readFileSync(first.entry, 'utf8'))![1];
    const loaded = modulesLoadedBy(pathToFileURL(path.join(path.dirname(first.entry), app)).href);
    expect(loaded.some((u) => u.endsWith(`/${app}`))).toBe(true);
    const fromNodeModules = (pkg: string) => loaded.some((u) => u.includes(`/node_modules/${pkg}/`));
    expect(['zod', '@pothos/core', 'graphql-yoga', '@graphql-tools/utils', 'graphile-worker'].filter(fromNodeModules)).toEqual([]);
    // CommonJS packages too: Node loads (and scans for export names) each of their files on its own.
    expect(['graphql', '@prisma/client', 'prom-client', 'ws', '@opentelemetry/api'].filter(fromNodeModules)).toEqual([]);
    expect([...LAZY, ...FIRST_USE, '@aws-sdk/client-s3', '@kubernetes/client-node'].filter(fromNodeModules)).toEqual([]);
  }, 150_000);

  it('is built again only when one of its inputs changed, keeping the build before', async () => {
    expect(first.built).toBe(true);
    expect(await bundleServer(compiled)).toMatchObject({ built: false, entry: first.entry });
    // What compileServer does when a server .ts changed.
    const config = path.join(compiled, 'server/config.js');
    writeFileSync(config, `${readFileSync(config, 'utf8')}\n// changed\n`);
    const rebuilt = await bundleServer(compiled);
    expect(rebuilt.built).toBe(true);
    expect(rebuilt.entry).not.toBe(first.entry);
    expect(existsSync(first.entry)).toBe(true);
  }, 150_000);
});
