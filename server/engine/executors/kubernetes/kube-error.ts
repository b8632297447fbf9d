/** What the Kubernetes client's errors carry: the HTTP code, and the API's Status (with its message) as `body`. */
export type KubeError = { code?: number; body?: unknown; message?: string };

export function kubeErrorText(err: unknown): string {
  const e = err as KubeError | null;
  const status = e?.body as { message?: unknown } | undefined;
  if (status && typeof status === 'object' && typeof status.message === 'string') return status.message;
  return e?.message ?? String(err);
}
