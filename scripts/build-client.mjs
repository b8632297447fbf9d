// Builds the web app (client/ → client/dist) with Vite and prints what it weighs.
// `--if-stale`: only when a source file is newer than the last build (what `npm start` runs).
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('../client/', import.meta.url));
const dist = path.join(root, 'dist');

function newest(p) {
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(p).map((f) => newest(path.join(p, f))));
}

/** Whether client/dist is missing or older than a source of the web app. */
export function webAppStale() {
  const sources = ['src', 'index.html', 'vite.config.ts'].map((f) => path.join(root, f));
  const stamp = path.join(dist, 'index.html');
  return !(existsSync(stamp) && statSync(stamp).mtimeMs >= Math.max(...sources.map(newest)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  if (process.argv.includes('--if-stale') && !webAppStale()) process.exit(0);

  // Always a production build (React's development build is twice the size), even under a test runner's NODE_ENV=test.
  process.env.NODE_ENV = 'production';
  const { build } = await import('vite');
  const started = Date.now();
  await build({ configFile: path.join(root, 'vite.config.ts'), mode: 'production', logLevel: 'warn' });

  const assets = readdirSync(path.join(dist, 'assets')).map((f) => {
    const body = readFileSync(path.join(dist, 'assets', f));
    return { f, raw: body.length, gz: gzipSync(body).length };
  });
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  for (const a of assets) console.log(`  client/dist/assets/${a.f.padEnd(28)} ${kb(a.raw).padStart(10)}  gzip ${kb(a.gz).padStart(9)}`);
  console.log(`  web app built in ${Date.now() - started} ms`);
}
