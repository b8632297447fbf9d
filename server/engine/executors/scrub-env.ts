// Runners execute model-written plans and code: they must not inherit the worker's secrets
// (database URL, admin token, signing key, cloud credentials). They get a minimal environment,
// the variables their template explicitly allows, and what the engine adds (the model key).
const BASELINE = ['PATH', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE'];

/** Never passed on, whatever a template's `executor.env` names: the worker's own credentials. */
const WORKER_SECRET = /^(DATABASE_URL|REDIS_URL|AUTODEV_.*|AWS_.*|KUBECONFIG|OTEL_.*|PG.*)$/;

export function scrubbedEnv(allow: string[], extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...BASELINE, ...allow.filter((n) => !WORKER_SECRET.test(n))]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}
