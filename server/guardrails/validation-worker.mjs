// The worker's entry: Node 20 ignores `--import tsx` in a Worker's execArgv for its main module,
// so the thread registers tsx itself and then loads the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./validation-worker.ts');
