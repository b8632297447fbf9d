// `npm run bench`: every benchmark, each against a baseline measured in the same run.
import { benchFanout } from './fanout.ts';
import { benchLifecycle } from './lifecycle.ts';
import { machine } from './lib.ts';
import { benchMemoryStartup } from './memory-startup.ts';
import { benchReadPath } from './read-path.ts';
import { benchSandbox } from './sandbox.ts';
import { benchAgentLoop } from './agent-loop.ts';
import { benchStreamLatency } from './stream-latency.ts';

const started = Date.now();
console.log(`# AutoDev benchmarks — ${new Date().toISOString()}\nMachine: ${machine()}`);
await benchLifecycle();
await benchFanout();
await benchReadPath();
await benchMemoryStartup();
await benchSandbox();
await benchAgentLoop();
await benchStreamLatency();
console.log(`\nAll benchmarks took ${Math.round((Date.now() - started) / 1000)} s.`);
process.exit(0);
