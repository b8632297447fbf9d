import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { createInlineExecutor, createLocalExecutor, type Executor } from './executor.ts';

/**
 * The executor AUTODEV_EXECUTOR names: `local` (default), `kubernetes` or `inline`. The Kubernetes
 * client is loaded only when used (it adds ~0.4 s to start-up).
 */
export async function selectExecutor(config: Config, log: Logger): Promise<Executor> {
  if (config.executor === 'inline') return createInlineExecutor();
  if (config.executor === 'local') return createLocalExecutor({ command: config.runnerCommand });
  const { KubeConfig } = await import('@kubernetes/client-node');
  const { createKubernetesExecutor } = await import('./executors/kubernetes.ts');
  const kubeConfig = new KubeConfig();
  // KUBECONFIG when set; otherwise the pod's service account (in-cluster) or ~/.kube/config.
  if (config.kubernetes.kubeconfig) kubeConfig.loadFromFile(config.kubernetes.kubeconfig);
  else kubeConfig.loadFromDefault();
  const k = config.kubernetes;
  return createKubernetesExecutor({
    kubeConfig,
    namespace: k.namespace,
    image: k.image,
    command: k.command,
    secretName: k.secretName,
    ttlSecondsAfterFinished: k.jobTtlSeconds,
    defaultResources: k.runnerResources,
    log,
  });
}
