// `npm start`: brings what the server needs up to date, each step only when stale, then runs the
// server in this same process from compiled JavaScript (.compiled/, scripts/compile-server.mjs),
// bundled with the packages it loads at start (scripts/bundle-server.mjs).
// A restart with nothing changed costs three freshness checks (a hash of prisma/schema.prisma, the
// web app's and the server's modification times) instead of two extra Node processes and tsx's
// module hooks; the first start of a checkout compiles the server once (well under a second).
import { spawnSync } from 'node:child_process';
import module from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { prismaClientStale } from './prisma-generate.mjs';
import { webAppStale } from './build-client.mjs';
import { COMPILED_DIR, compileServer } from './compile-server.mjs';
import { bundleServer } from './bundle-server.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);

/** Runs one of the scripts beside this one (they print what they do); stops here when it fails. */
function run(script, ...args) {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', script), ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (prismaClientStale()) run('prisma-generate.mjs');
if (webAppStale()) run('build-client.mjs');
await compileServer();
// Should bundling fail (a package esbuild cannot take), the server runs from the compiled files.
const entry = await bundleServer().then(
  (bundle) => {
    // Node >= 22.1: V8's compiled code of the bundle is kept beside it (and goes with its build), so a
    // restart does not compile it again: ~0.2 s less CPU to ready on Node 24. Node 20 has no such cache.
    module.enableCompileCache?.(path.join(path.dirname(bundle.entry), '.compile-cache'));
    return bundle.entry;
  },
  (err) => {
    console.warn(`Could not bundle the server (${err.message}); running it from its compiled files.`);
    return path.join(COMPILED_DIR, 'server/main.js');
  },
);
await import(pathToFileURL(entry).href);
// The server is up (main.ts awaits its start): the cache is written now, not only at a clean exit.
module.flushCompileCache?.();
