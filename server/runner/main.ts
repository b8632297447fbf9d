// The reference runner: `node --import tsx server/runner/main.ts spec.json` (or the spec on stdin,
// or gzip+base64 in AUTODEV_RUNNER_SPEC, as the Kubernetes executor passes it).
// Writes one runner-protocol event per line on stdout; exit code 0 after a result, 1 after an error.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createOfflineProvider } from './providers/offline.ts';
import { createOpenAiProvider } from './providers/openai.ts';
import { runCrew } from './run-crew.ts';
import type { RunnerSpec } from './spec.ts';

const encoded = process.env.AUTODEV_RUNNER_SPEC;
const spec = JSON.parse(
  encoded ? gunzipSync(Buffer.from(encoded, 'base64')).toString('utf8') : readFileSync(process.argv[2] ?? 0, 'utf8'),
) as RunnerSpec;
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
