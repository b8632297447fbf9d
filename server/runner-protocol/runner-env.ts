// Runners execute model-written plans and code: they must not inherit the worker's secrets
// (database URL, admin token, signing key, cloud credentials). They get a minimal environment,
// the variables their template names from an allow-list, and what the engine adds (the model key).
// This module alone decides which names a runner may receive.

/** Always passed: what a process needs to run at all. */
const BASELINE = ['PATH', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE'];

/** Any template may name these: settings that are never credentials. */
export const SAFE_RUNNER_ENV = ['CI', 'NODE_ENV', 'TERM', 'NO_COLOR', 'FORCE_COLOR', 'LANGUAGE', 'LANG', 'LC_ALL', 'TZ'];

/** The worker's own credentials: never passed on, and the operator cannot allow them. */
const WORKER_CREDENTIAL = /^(DATABASE_URL|REDIS_URL|AUTODEV_.*|AWS_.*|KUBECONFIG|OTEL_.*|PG.*)$/;
export const isWorkerCredential = (name: string) => WORKER_CREDENTIAL.test(name);

/**
 * Whether a template may name `name` in `executor.env`: the fixed safe set, plus the names the
 * operator allows (`AUTODEV_RUNNER_ENV_ALLOW`), never a worker credential.
 */
export function runnerEnvAllowed(name: string, operatorAllow: readonly string[]): boolean {
  return !isWorkerCredential(name) && (SAFE_RUNNER_ENV.includes(name) || operatorAllow.includes(name));
}

/** The names a template asks for that it may have (also applied at run time: the operator's list may have shrunk). */
export function permittedRunnerEnv(names: readonly string[], operatorAllow: readonly string[]): string[] {
  return names.filter((n) => runnerEnvAllowed(n, operatorAllow));
}

/** The local executor's environment: the baseline, the permitted names' values, then `extra`. */
export function scrubbedEnv(permitted: readonly string[], extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...BASELINE, ...permitted.filter((n) => !isWorkerCredential(n))]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}
