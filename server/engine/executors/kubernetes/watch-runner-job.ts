import { Watch, type KubeConfig, type V1Job, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../../logger.ts';
import { kubeErrorText } from './kube-error.ts';
import { RUNNER_CONTAINER } from '../kubernetes-job-manifest.ts';

type Condition = { type?: string; status?: string; reason?: string; message?: string };

export const jobCondition = (job: V1Job | undefined, type: 'Complete' | 'Failed'): Condition | undefined =>
  job?.status?.conditions?.find((c: Condition) => c.type === type && c.status === 'True');

/** The Job's end, once it has one: `failed` is its Failed condition (absent when it completed). */
export function jobEnding(job: V1Job | undefined): { failed: Condition | undefined } | undefined {
  const failed = jobCondition(job, 'Failed');
  return failed || jobCondition(job, 'Complete') ? { failed } : undefined;
}

export function runnerStatus(pod: V1Pod | undefined) {
  return pod?.status?.containerStatuses?.find((c) => c.name === RUNNER_CONTAINER);
}

export type WatchedRunnerJob = ReturnType<typeof watchRunnerJob>;

/**
 * Watches one attempt's Job and its pod and lets the executor wait for a state of either.
 * A dropped watch is re-established (a new watch lists the current objects first).
 */
export function watchRunnerJob(kc: KubeConfig, namespace: string, name: string, log?: Logger) {
  const state: { job?: V1Job; pod?: V1Pod; gone: boolean } = { gone: false };
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());
  const watch = new Watch(kc);
  const controllers: AbortController[] = [];
  let closed = false;
  const open = (path: string, query: Record<string, string>, apply: (phase: string, obj: unknown) => void) => {
    if (closed) return;
    const retry = (err: unknown) => {
      if (closed) return;
      if (err) log?.warn('kubernetes watch dropped; re-watching', { name, error: kubeErrorText(err) });
      setTimeout(() => open(path, query, apply), err ? 500 : 0).unref();
    };
    watch
      .watch(
        path,
        query,
        (phase, obj: unknown) => {
          if (phase === 'ERROR') return; // a Status object (e.g. "too old resource version"), not ours
          apply(phase, obj);
          notify();
        },
        retry,
      )
      .then((c) => (closed ? c.abort() : controllers.push(c)))
      // Credentials could not be applied (e.g. an exec plugin failed): try again, never crash the worker.
      .catch(retry);
  };
  open(`/apis/batch/v1/namespaces/${namespace}/jobs`, { fieldSelector: `metadata.name=${name}` }, (phase, obj) => {
    if (phase === 'DELETED') state.gone = true;
    else state.job = obj as V1Job;
  });
  open(`/api/v1/namespaces/${namespace}/pods`, { labelSelector: `job-name=${name}` }, (phase, obj) => {
    if (phase !== 'DELETED') state.pod = obj as V1Pod;
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
