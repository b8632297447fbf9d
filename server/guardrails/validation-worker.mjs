// The worker's entry. Built (npm run build) it sits beside the compiled validation-worker.js and
// loads it. From the TypeScript source, Node 20 ignores `--import tsx` in a Worker's execArgv for
// its main module, so the thread registers tsx itself and then loads the TypeScript worker.
import { existsSync } from 'node:fs';

if (existsSync(new URL('./validation-worker.js', import.meta.url))) {
  await import('./validation-worker.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./validation-worker.ts');
}
