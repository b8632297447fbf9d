// `npm run typecheck`: the server's project (server, tests, k8s, alerting, bench, scripts) and the web
// app's, at once (two processes: the server's alone took ~26 s here, the web app's ~9 s), each
// incremental, its build information kept under node_modules/.cache/tsc/ (like ESLint's cache):
// a second run re-checks only what changed since. Each project's errors are printed as tsc prints
// them; the run fails if either has any.
import { spawn } from 'node:child_process';

const CACHE = 'node_modules/.cache/tsc';

function check(name, args) {
  return new Promise((resolve) => {
    const tsc = spawn(
      process.execPath,
      ['node_modules/typescript/bin/tsc', '--noEmit', '--incremental', '--tsBuildInfoFile', `${CACHE}/${name}.tsbuildinfo`, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    tsc.stdout.on('data', (d) => (out += d));
    tsc.stderr.on('data', (d) => (out += d));
    tsc.on('close', (code) => resolve({ name, code, out }));
  });
}

const results = await Promise.all([check('server', []), check('client', ['-p', 'client'])]);
for (const { name, code, out } of results) {
  if (out) process.stdout.write(out);
  if (code !== 0) console.error(`typecheck: the ${name} project has type errors (tsc exited with ${code}).`);
}
process.exit(results.some((r) => r.code !== 0) ? 1 : 0);
