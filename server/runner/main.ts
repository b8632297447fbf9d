// The reference runner: `node --import tsx server/runner/main.ts spec.json`, built `node dist/server/runner/main.js spec.json` (or the spec on stdin,
// or gzip+base64 in AUTODEV_RUNNER_SPEC, as the Kubernetes executor passes it).
// Writes one runner-protocol event per line on stdout; exit code 0 after a result or a pause for
// human input (input_requested), 1 after an error.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { RunnerEvent } from '../runner-protocol/parse-runner-output.ts';
import { registerSecret, redactValue } from '../secrets/redact.ts';
import { allKeyVariables } from '../runner-protocol/model-providers.ts';
import { runSpec } from './run-spec.ts';
import type { RunnerSpec } from './spec.ts';

const encoded = process.env.AUTODEV_RUNNER_SPEC;
const spec = JSON.parse(
  encoded ? gunzipSync(Buffer.from(encoded, 'base64')).toString('utf8') : readFileSync(process.argv[2] ?? 0, 'utf8'),
) as RunnerSpec;
// An error event carries what the provider answered (its `detail`), and the runner's stdout may be
// kept as a pod log: the key is removed here already. What the crew produced is left for the
// engine, which redacts it and fails the no-secrets guardrail (server/engine/redact-runner-event.ts).
registerSecret('the model API key', process.env.AUTODEV_MODEL_API_KEY);
for (const name of allKeyVariables(spec.provider.providers ?? { providers: {} })) registerSecret(`the key in ${name}`, process.env[name]);
for (const name of [spec.workspace?.credentialsEnv, spec.workspace?.push?.credentialsEnv])
  if (name) registerSecret(`the token in ${name}`, process.env[name]);
const write = (event: RunnerEvent) => {
  process.stdout.write(JSON.stringify(event.type === 'error' ? redactValue(event) : event) + '\n');
};
// The workspace goes beside spec.json, in the attempt's directory (the runner's working directory).
// A spec passed in the environment (the Kubernetes executor) comes without one: a fresh directory
// under the temporary directory (the pod's /tmp emptyDir), its own whoever else shares /tmp.
const attemptDir = encoded ? mkdtempSync(path.join(tmpdir(), 'autodev-attempt-')) : process.cwd();
const outcome = await runSpec(spec, { attemptDir, env: process.env }, write);
// 'paused': a task asked a person and the job waits for the answer (a normal end, exit 0).
process.exitCode = outcome === 'error' ? 1 : 0;
