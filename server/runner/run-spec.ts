// One attempt of a crew, whichever way it runs: on the agent runtime (a workspace, tools, checks)
// or one chat completion per task. The runner process and the inline executor both start here.
import type { RunnerEvent } from '../runner-protocol/parse-runner-output.ts';
import { createOfflineProvider } from './providers/offline.ts';
import { createOpenAiProvider } from './providers/openai.ts';
import { runAgentCrew, usesAgentRuntime, workspaceDirIn } from './run-agent-crew.ts';
import { runCrew } from './run-crew.ts';
import { modelSelector } from './select-model.ts';
import type { RunnerSpec } from './spec.ts';

export { usesAgentRuntime };

export async function runSpec(
  spec: RunnerSpec,
  /** `env`: where the model keys are, by the names the providers give (the runner's own environment). */
  opts: { attemptDir: string; env: Record<string, string | undefined>; signal?: AbortSignal },
  emit: (event: RunnerEvent) => void,
): Promise<'result' | 'error' | 'paused'> {
  if (usesAgentRuntime(spec)) {
    return runAgentCrew(
      spec,
      {
        workspaceDir: workspaceDirIn(opts.attemptDir),
        modelFor: modelSelector(spec.provider, opts.env),
        env: opts.env,
        stream: spec.provider.stream,
        signal: opts.signal,
      },
      emit,
    );
  }
  const provider =
    spec.provider.kind === 'openai'
      ? createOpenAiProvider({ baseUrl: spec.provider.baseUrl, apiKey: opts.env.AUTODEV_MODEL_API_KEY, timeoutMs: spec.provider.timeoutMs })
      : createOfflineProvider();
  return runCrew(spec, provider, emit);
}
