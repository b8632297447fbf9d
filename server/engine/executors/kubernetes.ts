import { BatchV1Api, KubeConfig, Log, type V1Job } from '@kubernetes/client-node';
import type { Logger } from '../../logger.ts';
import type { Executor, ExecuteOutcome, ExecuteRequest } from '../executor.ts';
import { awaitRunnerStart } from './kubernetes/await-runner-start.ts';
import { kubeErrorText, type KubeError } from './kubernetes/kube-error.ts';
import { followRunnerLog } from './kubernetes/follow-runner-log.ts';
import { runnerJobOutcome } from './kubernetes/runner-job-outcome.ts';
import { jobCondition, watchRunnerJob } from './kubernetes/watch-runner-job.ts';
import { buildJobManifest, kubernetesJobName, LABELS, MANAGED_SELECTOR } from './kubernetes-job-manifest.ts';

export interface KubernetesExecutorOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Runner image when the template names none. */
  image: string;
  /** The runner's command inside the image. */
  command: string[];
  /** Secret holding the variables the runner may see (the model API key, the template's `env`). */
  secretName?: string;
  ttlSecondsAfterFinished: number;
  /** Runner pod requests (= limits) where the template sets none. */
  defaultResources: { cpu: string; memory: string };
  /** How long a pod may take to be scheduled and pull its image, on top of the attempt's timeout. */
  startGraceMs?: number;
  log?: Logger;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The variables a runner pod gets from the Secret: the template's `env` names, what the engine adds,
 * and the model key whenever the provider needs one (on Kubernetes it usually lives only in the
 * runner Secret, not in the worker's environment).
 */
export function runnerSecretEnv(req: Pick<ExecuteRequest, 'envAllow' | 'envExtra' | 'spec'>): string[] {
  return [
    ...new Set([...req.envAllow, ...Object.keys(req.envExtra), ...(req.spec.provider.kind === 'openai' ? ['AUTODEV_MODEL_API_KEY'] : [])]),
  ];
}

/**
 * Runs each attempt as a Kubernetes Job (see kubernetes-job-manifest.ts), follows the pod's log as
 * the runner protocol, and turns the Job's and pod's status into an outcome: image pull errors,
 * OOMKilled and the deadline become clear failures. Cancellation deletes the Job with its pods.
 */
export function createKubernetesExecutor(
  opts: KubernetesExecutorOptions,
): Executor & { cleanupOrphans(isRunning: (attemptIds: string[]) => Promise<Set<string>>): Promise<number> } {
  const batch = opts.kubeConfig.makeApiClient(BatchV1Api);
  const logs = new Log(opts.kubeConfig);
  const ns = opts.namespace;
  const remove = (name: string) =>
    batch.deleteNamespacedJob({ name, namespace: ns, propagationPolicy: 'Background' }).catch((err: unknown) => {
      if ((err as KubeError | null)?.code !== 404) opts.log?.warn('could not delete a runner Job', { name, error: kubeErrorText(err) });
    });

  return {
    name: 'kubernetes',

    async execute(req): Promise<ExecuteOutcome> {
      const name = kubernetesJobName(req.spec.jobId, req.spec.attempt);
      const memory = req.resources?.memory || opts.defaultResources.memory;
      let manifest: V1Job;
      try {
        manifest = buildJobManifest({
          name,
          namespace: ns,
          attemptId: req.attemptId,
          // The runner pod is the sandbox: commands run in it directly, not under bubblewrap.
          spec: { ...req.spec, sandbox: { network: req.spec.sandbox?.network ?? false, isolation: 'pod' } },
          image: req.image ?? opts.image,
          command: opts.command,
          timeoutSeconds: req.timeoutMs / 1000,
          ttlSecondsAfterFinished: opts.ttlSecondsAfterFinished,
          resources: req.resources ?? {},
          defaultResources: opts.defaultResources,
          secretEnv: runnerSecretEnv(req),
          secretName: opts.secretName,
        });
      } catch (err) {
        return { kind: 'spawn_error', message: (err as Error).message };
      }
      if (req.signal.aborted) return { kind: 'cancelled', stderrTail: '' };
      const watched = watchRunnerJob(opts.kubeConfig, ns, name, opts.log);
      try {
        try {
          await batch.createNamespacedJob({ namespace: ns, body: manifest });
        } catch (err: unknown) {
          return { kind: 'spawn_error', message: `Kubernetes refused the runner Job ${name}: ${kubeErrorText(err)}` };
        }
        if (req.signal.aborted) return await cancelled(name);
        const deadline = Date.now() + req.timeoutMs + (opts.startGraceMs ?? 120_000);
        const left = () => Math.max(0, deadline - Date.now());

        // 1. Until the runner container runs (or cannot).
        const started = await awaitRunnerStart(watched, manifest.spec?.template.spec?.containers[0]?.image, left(), req.signal);
        if (req.signal.aborted) return await cancelled(name);
        if (started === undefined) {
          await remove(name);
          return { kind: 'timeout', stderrTail: 'the runner pod did not start in time' };
        }
        if (started !== 'started') {
          await remove(name);
          return started;
        }

        // 2. The pod's log is the runner's output.
        const job = { name, namespace: ns, watched, left, signal: req.signal };
        const { violation, stderrTail } = await followRunnerLog({ logs, log: opts.log }, job, req);
        if (req.signal.aborted) return await cancelled(name);
        if (violation) {
          await remove(name);
          return { kind: 'violation', ...violation };
        }

        // 3. How it ended.
        const ended = await runnerJobOutcome(job, stderrTail, memory);
        if (ended === 'cancelled') return await cancelled(name);
        if (ended.removeJob) await remove(name);
        return ended.outcome;
      } finally {
        watched.close();
      }

      async function cancelled(jobName: string): Promise<ExecuteOutcome> {
        await remove(jobName);
        return { kind: 'cancelled', stderrTail: '' };
      }
    },

    /**
     * Deletes unfinished runner Jobs whose attempt is no longer running (its worker died and the
     * attempt was recovered, or it ended while the worker could not delete the Job).
     */
    async cleanupOrphans(isRunning) {
      const list = await batch.listNamespacedJob({ namespace: ns, labelSelector: MANAGED_SELECTOR });
      const open = list.items.filter((j) => !j.metadata?.deletionTimestamp && !jobCondition(j, 'Complete') && !jobCondition(j, 'Failed'));
      const ids = open.map((j) => j.metadata?.labels?.[LABELS.attemptId]).filter((id): id is string => !!id && UUID.test(id));
      const running = ids.length ? await isRunning(ids) : new Set<string>();
      const orphans = open.filter((j) => !running.has(j.metadata?.labels?.[LABELS.attemptId] ?? ''));
      for (const job of orphans) await remove(job.metadata!.name!);
      if (orphans.length)
        opts.log?.warn('deleted orphaned runner Jobs', { count: orphans.length, names: orphans.map((j) => j.metadata!.name) });
      return orphans.length;
    },
  };
}
