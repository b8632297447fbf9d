// `npm run build`: the server as plain JavaScript in dist/, an application directory that runs
// without tsx or TypeScript: `node dist/server/main.js` (the image's command), `node
// dist/server/db/migrate-cli.js`, `node dist/server/runner/main.js` (the runner pods' command).
//
// TypeScript's compiler (tsconfig.build.json: one .js per .ts, the `.ts` of every relative import
// rewritten to `.js`, no type check — `npm run typecheck` does that) keeps each module where it
// was, so the files the server opens next to its code (`new URL('../../schemas/…', import.meta.url)`)
// are found by copying ASSETS into dist/ at the same relative places. Bare imports resolve from the
// node_modules beside dist/ (the checkout's, or the image's runtime tree).
// Needs server/db/generated (prisma-generate) and client/dist (build-client), which `npm run build` runs first.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** What the server reads besides its code and node_modules, copied to the same place under dist/ (k8s/manifests.test.ts checks that every file it opens is). */
export const ASSETS = ['schemas', 'prisma/migrations', 'client/dist', 'examples/sample-repo'];

/** Tests and their helpers, which dist/ leaves out (the sample repository keeps its own test: it is what the bundled fix-failing-tests crew fixes). */
export const isTestPath = (rel) =>
  !rel.startsWith('examples/') && (/\.test\.ts$/.test(rel) || rel.split('/').some((s) => s === 'test' || s === 'test-runners'));

export function buildServer(out = path.join(root, 'dist')) {
  for (const need of ['server/db/generated/client.ts', 'client/dist/index.html']) {
    if (!existsSync(path.join(root, need)))
      throw new Error(
        `${need} is missing: run node scripts/prisma-generate.mjs and node scripts/build-client.mjs first (npm run build does)`,
      );
  }
  rmSync(out, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', out], { cwd: root, stdio: 'inherit' });
  // The server's files that are not TypeScript (the validation worker's .mjs entry).
  let copied = 0;
  const walk = (dir) => {
    for (const e of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (isTestPath(rel) || rel === 'server/db/generated/.schema-sha256') continue;
      if (e.isDirectory()) walk(rel);
      else if (!rel.endsWith('.ts')) {
        cpSync(path.join(root, rel), path.join(out, rel));
        copied++;
      }
    }
  };
  walk('server');
  // (TypeScript beside the assets, e.g. schemas/types/, is source: tsc emitted what the server imports.)
  const isAsset = (rel) => !isTestPath(rel) && (rel.startsWith('examples/') || !rel.endsWith('.ts'));
  for (const asset of ASSETS)
    cpSync(path.join(root, asset), path.join(out, asset), {
      recursive: true,
      filter: (src) => isAsset(path.relative(root, src).split(path.sep).join('/')),
    });
  // ES modules, whatever package.json (if any) sits above dist/.
  writeFileSync(path.join(out, 'package.json'), `${JSON.stringify({ name: 'autodev-dist', private: true, type: 'module' }, null, 2)}\n`);
  const tests = execFileSync('find', [out, '-name', '*.test.*', '-not', '-path', '*/examples/*'], { encoding: 'utf8' }).trim();
  if (tests) throw new Error(`test files in ${out}:\n${tests}`);
  return { out, copied };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const started = Date.now();
  const out = process.argv[2] ? path.resolve(process.argv[2]) : undefined;
  const built = buildServer(out);
  const size = execFileSync('du', ['-sh', built.out], { encoding: 'utf8' }).split('\t')[0];
  console.log(
    `build: ${path.relative(process.cwd(), built.out) || '.'} (${size}) in ${((Date.now() - started) / 1000).toFixed(1)} s; start it with node ${path.relative(process.cwd(), path.join(built.out, 'server/main.js'))}`,
  );
}
