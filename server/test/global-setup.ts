import { execFileSync } from 'node:child_process';

/** Once before all test files: the web app must be built for the server to serve it. */
export default function setup() {
  execFileSync(process.execPath, ['scripts/build-client.mjs', '--if-stale'], { stdio: 'inherit' });
}
