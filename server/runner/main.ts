// The reference runner: `node --import tsx server/runner/main.ts spec.json` (or the spec on stdin,
// or gzip+base64 in AUTODEV_RUNNER_SPEC, as the Kubernetes executor passes it).
// Writes one runner-protocol event per line on stdout; exit code 0 after a result, 1 after an error.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createOfflineProvider } from './providers/offline.ts';
import { createOpenAiProvider } from './providers/openai.ts';
import { registerSecret, redactValue } from '../secrets/redact.ts';
import { runCrew } from './run-crew.ts';
import { runAgentCrew, usesAgentRuntime, workspaceDirIn } from './run-agent-crew.ts';
import { modelSelector } from './select-model.ts';
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
        timeoutMs: spec.provider.timeoutMs,
      })
    : createOfflineProvider();

// An error event carries what the provider answered (its `detail`), and the runner's stdout may be
// kept as a pod log: the key is removed here already. What the crew produced is left for the
// engine, which redacts it and fails the no-secrets guardrail (server/engine/redact-runner-event.ts).
registerSecret('the model API key', process.env.AUTODEV_MODEL_API_KEY);
const write = (event: Parameters<Parameters<typeof runCrew>[2]>[0]) => {
  process.stdout.write(JSON.stringify(event.type === 'error' ? redactValue(event) : event) + '\n');
};
// The workspace goes beside spec.json, in the attempt's directory (the runner's working directory).
const outcome = usesAgentRuntime(spec)
  ? await runAgentCrew(spec, { workspaceDir: workspaceDirIn(process.cwd()), modelFor: modelSelector(spec.provider), stream: spec.provider.stream }, write)
  : await runCrew(spec, provider, write);
process.exitCode = outcome === 'result' ? 0 : 1;
