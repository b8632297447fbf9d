// Runners execute model-written plans and code: they must not inherit the worker's secrets
// (database URL, admin token, signing key, cloud credentials). They get a minimal environment,
// the variables their template explicitly allows, and what the engine adds (the model key).
const BASELINE = ['PATH', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE'];

export function scrubbedEnv(allow: string[], extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...BASELINE, ...allow]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}
