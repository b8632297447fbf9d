// The reference runner: `node --import tsx server/runner/main.ts spec.json` (or the spec on stdin).
// Writes one runner-protocol event per line on stdout; exit code 0 after a result, 1 after an error.
import { readFileSync } from 'node:fs';
import { createOfflineProvider } from './providers/offline.ts';
import { createOpenAiProvider } from './providers/openai.ts';
import { runCrew } from './run-crew.ts';
import type { RunnerSpec } from './spec.ts';

const spec = JSON.parse(readFileSync(process.argv[2] ?? 0, 'utf8')) as RunnerSpec;
const provider =
  spec.provider.kind === 'openai'
    ? createOpenAiProvider({
        baseUrl: spec.provider.baseUrl,
        apiKey: process.env.AUTODEV_MODEL_API_KEY,
        timeoutMs: Number(process.env.AUTODEV_MODEL_TIMEOUT_MS) || undefined,
      })
    : createOfflineProvider();

const outcome = await runCrew(spec, provider, (event) => process.stdout.write(JSON.stringify(event) + '\n'));
process.exitCode = outcome === 'result' ? 0 : 1;
