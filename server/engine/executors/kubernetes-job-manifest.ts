import { gzipSync } from 'node:zlib';
import type { V1Job } from '@kubernetes/client-node';
import type { RunnerSpec } from '../../runner/spec.ts';

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  component: 'app.kubernetes.io/component',
  job: 'autodev.dev/job-id',
  attempt: 'autodev.dev/attempt',
  attemptId: 'autodev.dev/attempt-id',
} as const;

/** The label selector of every Kubernetes Job the executor creates. */
export const MANAGED_SELECTOR = `${LABELS.managedBy}=autodev,${LABELS.component}=runner`;

/** Linux refuses a single environment string over 128 KiB; the encoded spec must stay below. */
export const MAX_ENCODED_SPEC_BYTES = 120 * 1024;
export const RUNNER_CONTAINER = 'runner';

export interface JobManifestInput {
  name: string;
  namespace: string;
  attemptId: string;
  spec: RunnerSpec;
  image: string;
  command: string[];
  timeoutSeconds: number;
  ttlSecondsAfterFinished: number;
  /** The template's `executor.resources`; what it leaves unset comes from `defaultResources`. */
  resources: { cpu?: string; memory?: string };
  /** AUTODEV_K8S_RUNNER_CPU / _MEMORY: so no runner pod is BestEffort or refused by a ResourceQuota. */
  defaultResources: { cpu: string; memory: string };
  /** Variables the runner may see; each comes from `secretName` by reference, never by value. */
  secretEnv: string[];
  secretName?: string;
}

/** The runner spec as the runner reads it from AUTODEV_RUNNER_SPEC: gzip, then base64. */
export function encodeSpec(spec: RunnerSpec): string {
  return gzipSync(JSON.stringify(spec)).toString('base64');
}

/** A DNS-1123 name, unique per attempt: `autodev-<job uuid>-<attempt>` (≤ 63 characters). */
export function kubernetesJobName(jobId: string, attempt: number): string {
  return `autodev-${jobId.toLowerCase()}-${attempt}`.slice(0, 63);
}

/**
 * One batch/v1 Job per attempt. Retries are the engine's (backoffLimit 0); the cluster enforces the
 * timeout (activeDeadlineSeconds) and removes the Job later (ttlSecondsAfterFinished). The pod runs
 * as non-root with a read-only root filesystem, no capabilities, the RuntimeDefault seccomp profile
 * and no service-account token; secrets come from a Secret by reference.
 */
export function buildJobManifest(input: JobManifestInput): V1Job {
  const encoded = encodeSpec(input.spec);
  if (encoded.length > MAX_ENCODED_SPEC_BYTES) {
    throw new Error(
      `the attempt's runner spec is ${encoded.length} bytes encoded; the Kubernetes executor passes at most ${MAX_ENCODED_SPEC_BYTES}`,
    );
  }
  const labels = {
    [LABELS.managedBy]: 'autodev',
    [LABELS.component]: 'runner',
    [LABELS.job]: input.spec.jobId,
    [LABELS.attempt]: String(input.spec.attempt),
    [LABELS.attemptId]: input.attemptId,
  };
  const set = Object.fromEntries(Object.entries(input.resources).filter(([, v]) => v));
  // Requests = limits: a Guaranteed pod, last to be evicted, and the memory limit is what OOM_KILLED reports.
  const requests = { ...input.defaultResources, ...set } as Record<string, string>;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: input.name, namespace: input.namespace, labels },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: Math.max(1, Math.ceil(input.timeoutSeconds)),
      ttlSecondsAfterFinished: input.ttlSecondsAfterFinished,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            fsGroup: 10001,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: RUNNER_CONTAINER,
              image: input.image,
              command: input.command,
              // The runner works in its working directory (the workspace goes there): the writable emptyDir, not the image's read-only /app.
              workingDir: '/tmp',
              env: [
                { name: 'AUTODEV_RUNNER_SPEC', value: encoded },
                { name: 'HOME', value: '/tmp' },
                ...input.secretEnv.map((name) => ({
                  name,
                  valueFrom: { secretKeyRef: { name: input.secretName ?? 'autodev-runner', key: name, optional: true } },
                })),
              ],
              resources: { requests, limits: requests },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                privileged: false,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          // The attempt's workspace (a clone, what its commands build) lives here.
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '2Gi' } }],
        },
      },
    },
  };
}
