// What `npm start` runs the server from: server/**/*.ts compiled to JavaScript under .compiled/,
// one .js per .ts at the same relative place, with esbuild (a devDependency, the version tsx
// itself uses). Incremental: only a source newer than its compiled file is compiled again: each
// compiled file carries its source's modification time
// (a source edited, or checked out, since then differs; one edited while it was being compiled
// too). A restart compiles nothing; the first start of a checkout compiles everything (about a
// second); a compiled file whose source is gone is removed.
// Each file is written whole (to a temporary name, then renamed), so a server already running
// from .compiled/ that imports a module later gets the old or the new one, as under tsx.
//
// The server opens files beside its code (`new URL('../../schemas/…', import.meta.url)`): the
// asset directories are symbolic links from .compiled/ to the checkout's own, and node_modules
// too (bare imports resolve from the checkout's). Not the image's build: `npm run build` (tsc,
// dist/, scripts/build-server.mjs) is.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  copyFileSync,
  lstatSync,
  utimesSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isTestPath } from './build-server.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
export const COMPILED_DIR = path.join(root, '.compiled');
/** Beside the code: what the server reads relative to its modules, and where bare imports resolve. */
const LINKED = ['schemas', 'prisma', 'client', 'examples', 'node_modules'];

/** server/ files (relative, `/`-separated) with their modification times, tests and their helpers left out. */
function sources(dir = 'server', found = new Map()) {
  for (const e of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (isTestPath(rel) || rel === 'server/db/generated/.schema-sha256') continue;
    if (e.isDirectory()) sources(rel, found);
    else found.set(rel, statSync(path.join(root, rel)).mtimeMs);
  }
  return found;
}

const outputOf = (rel) => rel.replace(/\.ts$/, '.js');

function mtimeOrZero(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** Compiled files (relative to `out`) whose source no longer exists. */
function orphans(out, wanted, dir = 'server', found = []) {
  if (!existsSync(path.join(out, dir))) return found;
  for (const e of readdirSync(path.join(out, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) orphans(out, wanted, rel, found);
    else if (!wanted.has(rel)) found.push(rel);
  }
  return found;
}

/**
 * Brings `out` up to date with server/. Returns how many files were compiled or copied (0 when
 * everything was fresh) and the milliseconds it took.
 */
export async function compileServer(out = COMPILED_DIR) {
  const started = performance.now();
  const all = sources();
  const wanted = new Set([...all.keys()].map(outputOf));
  // Within a millisecond: a time set with utimes reads back rounded.
  const stale = [...all].filter(([rel, mtime]) => Math.abs(mtimeOrZero(path.join(out, outputOf(rel))) - mtime) >= 1).map(([rel]) => rel);
  const gone = orphans(out, wanted);
  for (const rel of gone) rmSync(path.join(out, rel), { force: true });

  mkdirSync(out, { recursive: true });
  for (const name of LINKED) {
    const link = path.join(out, name);
    if (!lstatExists(link)) {
      try {
        symlinkSync(path.join(root, name), link, 'dir');
      } catch (err) {
        if (err.code !== 'EEXIST') throw err; // another start made it just now
      }
    }
  }
  if (!stale.length) return { changed: gone.length, ms: performance.now() - started };

  const tmp = path.join(out, `.tmp-${process.pid}`);
  const copies = stale.filter((rel) => !rel.endsWith('.ts'));
  const compiles = stale.filter((rel) => rel.endsWith('.ts'));
  if (compiles.length) {
    const esbuild = await import('esbuild');
    await esbuild.build({
      absWorkingDir: root,
      entryPoints: compiles,
      outdir: path.join(tmp, 'server'),
      outbase: 'server',
      // Bundling only so that the plugin sees every import: each one stays an import (relative
      // ones of `.ts` rewritten to `.js`), nothing is inlined.
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'node20',
      tsconfig: path.join(root, 'tsconfig.json'),
      logLevel: 'error',
      plugins: [
        {
          name: 'relative-imports-stay-imports',
          setup(build) {
            build.onResolve({ filter: /^\.\.?\// }, (args) =>
              args.kind === 'entry-point' ? undefined : { path: args.path.replace(/\.ts$/, '.js'), external: true },
            );
          },
        },
      ],
    });
  }
  for (const rel of copies) {
    mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
    copyFileSync(path.join(root, rel), path.join(tmp, rel));
  }
  for (const rel of stale) {
    const target = path.join(out, outputOf(rel));
    mkdirSync(path.dirname(target), { recursive: true });
    const written = path.join(tmp, outputOf(rel));
    utimesSync(written, new Date(), all.get(rel) / 1000);
    renameSync(written, target);
  }
  rmSync(tmp, { recursive: true, force: true });
  return { changed: stale.length + gone.length, ms: performance.now() - started };
}

function lstatExists(p) {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { changed, ms } = await compileServer();
  console.log(`compile-server: ${changed} file(s) in ${ms.toFixed(0)} ms`);
}
