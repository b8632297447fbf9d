import path from 'node:path';
import type { SpendingBound } from '../../budgets/spending-bound.ts';
import type { Config } from '../../config.ts';
import type { RunnerSpec } from '../../runner/spec.ts';
import type { ExecuteRequest } from '../executor.ts';
import { permittedRunnerEnv } from '../../runner-protocol/runner-env.ts';
import { modelKeyVariables } from '../model-keys.ts';
import { modelsCalled } from '../../budgets/model-prices.ts';
import type { StartedAttempt } from '../start-attempt.ts';

/**
 * What the executor needs to run the attempt's runner: the runner's spec (with the spending bound
 * the job and the project's budget leave, read with the claim), the template's image, resources, timeout and permitted
 * environment, and the hooks that receive the runner's output.
 */
export function buildExecuteRequest(
  deps: { config: Config },
  attempt: StartedAttempt,
  hooks: Pick<ExecuteRequest, 'signal' | 'onEvent' | 'onLog'>,
): ExecuteRequest {
  const { config } = deps;
  const executor = attempt.spec.executor;
  const w = attempt.spec.workspace;
  // Counted when the attempt started: only this attempt stores artifacts of the job until it ends.
  const artifactRoom = Math.max(0, config.limits.maxArtifactsPerJob - attempt.artifactCount);
  return {
    spec: { ...runnerSpec(config, attempt, attempt.bound), artifactRoom },
    attemptId: attempt.attemptId,
    image: executor.image,
    resources: executor.resources,
    workDir: path.join(config.dataDir, 'attempts', attempt.jobId, String(attempt.number)),
    timeoutMs: attempt.spec.timeoutSeconds * 1000,
    // The template's variables and credential names (checked again: the operator's list may have
    // shrunk), and the key variables of the providers its models name — all by name.
    envAllow: [
      ...new Set([
        ...permittedRunnerEnv(
          [...(executor.env ?? []), ...[w?.credentialsEnv, w?.push?.credentialsEnv].filter((n): n is string => Boolean(n))],
          config.runnerEnvAllow,
        ),
        ...modelKeyVariables(config.model, modelsOf(config, attempt)),
      ]),
    ],
    envExtra: config.model.apiKey ? { AUTODEV_MODEL_API_KEY: config.model.apiKey } : {},
    ...hooks,
  };
}

/** The models the runner will call: the operator's override, or each agent's own. */
function modelsOf(config: Config, attempt: StartedAttempt): string[] {
  return modelsCalled(attempt.spec.crew.agents, config.model.model);
}

/** Where the attempt's code comes from: the job-input fields the template names (default `repository`, `ref`). */
function workspaceOf(config: Config, a: StartedAttempt): RunnerSpec['workspace'] {
  const w = a.spec.workspace;
  if (!w) return undefined;
  const input = (a.input ?? {}) as Record<string, unknown>;
  const field = (name: string) => (typeof input[name] === 'string' && input[name] !== '' ? input[name] : undefined);
  const repository = field(w.repositoryField ?? 'repository');
  const ref = field(w.refField ?? 'ref');
  const push = w.push && {
    ...(w.push.remote ? { remote: w.push.remote } : {}),
    branch: w.push.branch.replaceAll('{jobId}', a.jobId).replaceAll('{attempt}', String(a.number)),
    ...(w.push.credentialsEnv ? { credentialsEnv: w.push.credentialsEnv } : {}),
  };
  return {
    ...(repository ? { repository } : {}),
    ...(ref ? { ref } : {}),
    localRoots: config.repositoryRoots,
    ...(w.credentialsEnv ? { credentialsEnv: w.credentialsEnv } : {}),
    ...(push ? { push } : {}),
  };
}

function runnerSpec(config: Config, a: StartedAttempt, budget: SpendingBound): RunnerSpec {
  const m = config.model;
  const workspace = workspaceOf(config, a);
  return {
    ...(workspace ? { workspace } : {}),
    ...(a.spec.checks?.length ? { checks: a.spec.checks } : {}),
    // The host network only when the template asks and the operator allows it; the Kubernetes
    // executor makes the isolation `pod` (the runner pod is the sandbox).
    sandbox: { network: a.spec.workspace?.network === 'host' && config.sandboxNetwork, isolation: 'bubblewrap' },
    jobId: a.jobId,
    attempt: a.number,
    template: { slug: a.spec.slug, version: a.spec.version },
    crew: a.spec.crew,
    input: a.input,
    outputSchema: a.spec.outputSchema,
    feedback: a.feedback,
    ...(a.resume ? { resume: a.resume } : {}),
    budget,
    provider: {
      kind: m.provider,
      ...(m.baseUrl ? { baseUrl: m.baseUrl } : {}),
      ...(m.model ? { model: m.model } : {}),
      ...(m.provider === 'offline' && m.offlineDelayMs ? { delayMs: m.offlineDelayMs } : {}),
      timeoutMs: m.timeoutMs,
      ...(m.stream ? { stream: true } : {}),
      ...(m.providers ? { providers: m.providers } : {}),
    },
  };
}
