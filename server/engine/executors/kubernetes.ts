import { PassThrough } from 'node:stream';
import { BatchV1Api, KubeConfig, Log, Watch, type V1Job, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../logger.ts';
import type { Executor, ExecuteOutcome, ExecuteRequest } from '../executor.ts';
import { consumeRunnerOutput } from './consume-runner-output.ts';
import { buildJobManifest, kubernetesJobName, LABELS, MANAGED_SELECTOR, RUNNER_CONTAINER } from './kubernetes-job-manifest.ts';

/** What the Kubernetes client's errors carry: the HTTP code, and the API's Status (with its message) as `body`. */
type KubeError = { code?: number; body?: unknown; message?: string };
function kubeErrorText(err: unknown): string {
  const e = err as KubeError | null;
  const status = e?.body as { message?: unknown } | undefined;
  if (status && typeof status === 'object' && typeof status.message === 'string') return status.message;
  return e?.message ?? String(err);
}

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

const IMAGE_PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const CONFIG_REASONS = new Set(['CreateContainerConfigError', 'CreateContainerError']);
const STDERR_TAIL_LINES = 20;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Condition = { type?: string; status?: string; reason?: string; message?: string };
const jobCondition = (job: V1Job | undefined, type: 'Complete' | 'Failed'): Condition | undefined =>
  job?.status?.conditions?.find((c: Condition) => c.type === type && c.status === 'True');

/**
 * Watches one attempt's Job and its pod and lets the executor wait for a state of either.
 * A dropped watch is re-established (a new watch lists the current objects first).
 */
function watchAttempt(kc: KubeConfig, namespace: string, name: string, log?: Logger) {
  const state: { job?: V1Job; pod?: V1Pod; gone: boolean } = { gone: false };
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());
  const watch = new Watch(kc);
  const controllers: AbortController[] = [];
  let closed = false;
  // `apply` takes the kind of object its path lists (a V1Job or a V1Pod).
  const open = (path: string, query: Record<string, string>, apply: (phase: string, obj: never) => void) => {
    if (closed) return;
    const retry = (err: unknown) => {
      if (closed) return;
      if (err) log?.warn('kubernetes watch dropped; re-watching', { name, error: kubeErrorText(err) });
      setTimeout(() => open(path, query, apply), err ? 500 : 0).unref();
    };
    watch
      .watch(path, query, (phase, obj) => {
        if (phase === 'ERROR') return; // a Status object (e.g. "too old resource version"), not ours
        apply(phase, obj as never);
        notify();
      }, retry)
      .then((c) => (closed ? c.abort() : controllers.push(c)))
      // Credentials could not be applied (e.g. an exec plugin failed): try again, never crash the worker.
      .catch(retry);
  };
  open(`/apis/batch/v1/namespaces/${namespace}/jobs`, { fieldSelector: `metadata.name=${name}` }, (phase, obj: V1Job) => {
    if (phase === 'DELETED') state.gone = true;
    else state.job = obj;
  });
  open(`/api/v1/namespaces/${namespace}/pods`, { labelSelector: `job-name=${name}` }, (phase, obj: V1Pod) => {
    if (phase !== 'DELETED') state.pod = obj;
  });
  return {
    state,
    /** Resolves with the first non-undefined value of `test`, or undefined after `ms` or on `signal`. */
    until<T>(test: () => T | undefined, ms: number, signal?: AbortSignal): Promise<T | undefined> {
      return new Promise((resolve) => {
        const finish = (v: T | undefined) => {
          waiters.delete(check);
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(v);
        };
        const check = () => {
          const v = test();
          if (v !== undefined) finish(v);
        };
        const onAbort = () => finish(undefined);
        const timer = setTimeout(() => finish(undefined), ms);
        if (signal?.aborted) {
          finish(undefined);
          return;
        }
        signal?.addEventListener('abort', onAbort);
        waiters.add(check);
        check();
      });
    },
    close() {
      closed = true;
      controllers.forEach((c) => c.abort());
      waiters.clear();
    },
  };
}

function runnerStatus(pod: V1Pod | undefined) {
  return pod?.status?.containerStatuses?.find((c) => c.name === RUNNER_CONTAINER);
}

/**
 * The variables a runner pod gets from the Secret: the template's `env` names, what the engine adds,
 * and the model key whenever the provider needs one (on Kubernetes it usually lives only in the
 * runner Secret, not in the worker's environment).
 */
export function runnerSecretEnv(req: Pick<ExecuteRequest, 'envAllow' | 'envExtra' | 'spec'>): string[] {
  return [...new Set([...req.envAllow, ...Object.keys(req.envExtra), ...(req.spec.provider.kind === 'openai' ? ['AUTODEV_MODEL_API_KEY'] : [])])];
}

/**
 * Runs each attempt as a Kubernetes Job (see kubernetes-job-manifest.ts), follows the pod's log as
 * the runner protocol, and turns the Job's and pod's status into an outcome: image pull errors,
 * OOMKilled and the deadline become clear failures. Cancellation deletes the Job with its pods.
 */
export function createKubernetesExecutor(opts: KubernetesExecutorOptions): Executor & { cleanupOrphans(isRunning: (attemptIds: string[]) => Promise<Set<string>>): Promise<number> } {
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
      const watched = watchAttempt(opts.kubeConfig, ns, name, opts.log);
      try {
        try {
          await batch.createNamespacedJob({ namespace: ns, body: manifest });
        } catch (err) {
          return { kind: 'spawn_error', message: `Kubernetes refused the runner Job ${name}: ${kubeErrorText(err)}` };
        }
        if (req.signal.aborted) return await cancelled(name);
        const deadline = Date.now() + req.timeoutMs + (opts.startGraceMs ?? 120_000);
        const left = () => Math.max(0, deadline - Date.now());
        const { state } = watched;

        // 1. Until the runner container runs (or cannot).
        const started = await watched.until<'started' | ExecuteOutcome>(() => {
          const cs = runnerStatus(state.pod);
          const waiting = cs?.state?.waiting;
          if (waiting?.reason && IMAGE_PULL_REASONS.has(waiting.reason)) {
            // A registry can fail for a while (rate limits, outages): retried, unless the name itself is wrong.
            const permanent = waiting.reason === 'InvalidImageName' || waiting.reason === 'ErrImageNeverPull';
            return { kind: 'failed', code: 'IMAGE_PULL_FAILED', message: `the runner image ${manifest.spec!.template.spec!.containers[0].image} could not be pulled (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''})`, retryable: !permanent };
          }
          if (waiting?.reason && CONFIG_REASONS.has(waiting.reason)) {
            return { kind: 'failed', code: 'RUNNER_START_FAILED', message: `the runner pod could not start (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''})`, retryable: waiting.reason === 'CreateContainerError' };
          }
          if (cs?.state?.running || cs?.state?.terminated) return 'started';
          const failed = jobCondition(state.job, 'Failed');
          if (failed) return failed.reason === 'DeadlineExceeded' ? { kind: 'timeout', stderrTail: '' } : 'started';
          if (state.gone) return { kind: 'cancelled', stderrTail: 'the runner Job was deleted' };
          return undefined;
        }, left(), req.signal);
        if (req.signal.aborted) return await cancelled(name);
        if (started === undefined) {
          await remove(name);
          return { kind: 'timeout', stderrTail: 'the runner pod did not start in time' };
        }
        if (started !== 'started') {
          await remove(name);
          return started;
        }

        const condition = () => {
          const failed = jobCondition(state.job, 'Failed');
          return failed || jobCondition(state.job, 'Complete') ? { failed } : undefined;
        };

        // 2. The pod's log is the runner's output.
        let violation: { code: string; message: string } | null = null;
        const plain: string[] = [];
        const stream = new PassThrough();
        const output = consumeRunnerOutput(stream, {
          onEvent: req.onEvent,
          onLog: async (line) => {
            plain.push(line);
            if (plain.length > STDERR_TAIL_LINES) plain.shift();
            await req.onLog(line);
          },
          onViolation: (v) => {
            violation = v;
            stream.destroy();
          },
        });
        const ended = new Promise<void>((resolve) => {
          stream.on('end', resolve);
          stream.on('close', resolve);
        });
        const podName = state.pod?.metadata?.name;
        // (No pod: the Job failed before one ran; there is no log to read.)
        const follow = podName
          ? await logs.log(ns, podName, RUNNER_CONTAINER, stream, { follow: true }).catch((err: unknown) => {
              opts.log?.warn('could not follow the runner pod log', { name, error: kubeErrorText(err) });
              stream.end();
              return null;
            })
          : (stream.end(), null);
        const stopFollowing = () => {
          follow?.abort();
          stream.destroy();
        };
        req.signal.addEventListener('abort', stopFollowing);
        if (req.signal.aborted) stopFollowing();
        const timer = setTimeout(stopFollowing, left());
        // A log stream whose socket failed is never ended by the client library: once the container
        // has ended, give the stream 5 s to deliver the rest, then stop waiting for it.
        let streamDone = false;
        void watched
          .until(() => condition() ?? runnerStatus(state.pod)?.state?.terminated ?? undefined, left())
          .then(() => new Promise((r) => setTimeout(r, 5000).unref()))
          .then(() => !streamDone && stopFollowing());
        await ended;
        streamDone = true;
        clearTimeout(timer);
        req.signal.removeEventListener('abort', stopFollowing);
        await output.finish();
        if (req.signal.aborted) return await cancelled(name);
        if (violation) {
          await remove(name);
          return { kind: 'violation', ...(violation as { code: string; message: string }) };
        }

        // 3. How it ended: the Job's condition, else the container's termination. A log stream can
        // end while the container still runs (the API server or kubelet closed it): what it writes
        // from then on would be neither recorded nor charged, so the pod is stopped and the attempt
        // fails, retryably.
        const ended5s = await watched.until(() => condition() ?? runnerStatus(state.pod)?.state?.terminated ?? undefined, Math.min(left(), 5000), req.signal);
        if (req.signal.aborted) return await cancelled(name);
        if (ended5s === undefined && left() > 0) {
          await remove(name);
          return { kind: 'failed', code: 'RUNNER_LOG_LOST', message: 'the runner pod log stream ended while the runner was still running; the pod was stopped', retryable: true };
        }
        const ending = condition() ?? (await watched.until(condition, Math.min(left(), 30_000), req.signal));
        if (req.signal.aborted) return await cancelled(name);
        const stderrTail = plain.join('\n');
        if (ending?.failed?.reason === 'DeadlineExceeded' || (!ending && left() === 0)) {
          await remove(name);
          return { kind: 'timeout', stderrTail };
        }
        const terminated = runnerStatus(state.pod)?.state?.terminated;
        if (terminated?.reason === 'OOMKilled') {
          return { kind: 'failed', code: 'OOM_KILLED', message: `the runner was killed for exceeding its memory limit${memory ? ` (${memory})` : ''}`, retryable: false };
        }
        return { kind: 'exited', exitCode: terminated?.exitCode ?? null, signal: null, stderrTail };
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
      if (orphans.length) opts.log?.warn('deleted orphaned runner Jobs', { count: orphans.length, names: orphans.map((j) => j.metadata!.name) });
      return orphans.length;
    },
  };
}
