import path from 'node:path';
import type pg from 'pg';
import { spendingBound, type SpendingBound } from '../../budgets/spending-bound.ts';
import type { Config } from '../../config.ts';
import type { RunnerSpec } from '../../runner/spec.ts';
import type { ExecuteRequest } from '../executor.ts';
import { permittedRunnerEnv } from '../../runner-protocol/runner-env.ts';
import type { StartedAttempt } from '../start-attempt.ts';

/**
 * What the executor needs to run the attempt's runner: the runner's spec (with the spending bound
 * the job and the project's budget leave), the template's image, resources, timeout and permitted
 * environment, and the hooks that receive the runner's output.
 */
export async function buildExecuteRequest(
  deps: { pool: pg.Pool; config: Config },
  attempt: StartedAttempt,
  hooks: Pick<ExecuteRequest, 'signal' | 'onEvent' | 'onLog'>,
): Promise<ExecuteRequest> {
  const { config } = deps;
  const executor = attempt.spec.executor;
  return {
    spec: runnerSpec(config, attempt, await spendingBound(deps.pool, attempt.jobId, modelsOf(config, attempt))),
    attemptId: attempt.attemptId,
    image: executor.image,
    resources: executor.resources,
    workDir: path.join(config.dataDir, 'attempts', attempt.jobId, String(attempt.number)),
    timeoutMs: attempt.spec.timeoutSeconds * 1000,
    envAllow: permittedRunnerEnv(executor.env ?? [], config.runnerEnvAllow),
    envExtra: config.model.apiKey ? { AUTODEV_MODEL_API_KEY: config.model.apiKey } : {},
    ...hooks,
  };
}

/** The models the runner will call: the operator's override, or each agent's own. */
function modelsOf(config: Config, attempt: StartedAttempt): string[] {
  return config.model.model ? [config.model.model] : (attempt.spec.crew.agents as { model: string }[]).map((a) => a.model);
}

/** Where the attempt's code comes from: the job-input fields the template names (default `repository`, `ref`). */
function workspaceOf(config: Config, a: StartedAttempt): RunnerSpec['workspace'] {
  const w = a.spec.workspace;
  if (!w) return undefined;
  const input = (a.input ?? {}) as Record<string, unknown>;
  const field = (name: string) => (typeof input[name] === 'string' && input[name] !== '' ? input[name] : undefined);
  const repository = field(w.repositoryField ?? 'repository');
  const ref = field(w.refField ?? 'ref');
  return { ...(repository ? { repository } : {}), ...(ref ? { ref } : {}), localRoots: config.repositoryRoots };
}

function runnerSpec(config: Config, a: StartedAttempt, budget: SpendingBound): RunnerSpec {
  const m = config.model;
  const workspace = workspaceOf(config, a);
  return {
    ...(workspace ? { workspace } : {}),
    ...(a.spec.checks?.length ? { checks: a.spec.checks } : {}),
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
    },
  };
}
