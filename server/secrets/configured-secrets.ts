import type { Config } from '../config.ts';
import { MIN_LETTERS_ONLY_LENGTH, MIN_SECRET_LENGTH, registerSecret } from './redact.ts';

export function urlPassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Registers every secret the operator configured, so that no stored, streamed or logged text
 * carries one. `extra` adds secrets resolved at start (a generated signing key or admin token, the
 * embedded database's URL). Returns the labels of values too short to redact (the caller warns).
 */
export function registerConfiguredSecrets(config: Config, extra: { label: string; value?: string }[] = []): string[] {
  const secrets: { label: string; value?: string }[] = [
    { label: 'the model API key', value: config.model.apiKey },
    { label: 'the admin token', value: config.adminToken },
    { label: 'the signing key', value: config.signingKey },
    { label: 'the metrics token', value: config.metricsToken },
    { label: 'the S3 secret access key', value: config.s3.credentials?.secretAccessKey },
    { label: 'the database password', value: urlPassword(config.databaseUrl) },
    { label: 'the Redis password', value: urlPassword(config.redisUrl) },
    ...config.secretEnv.map((s) => ({ label: `the secret ${s.name}`, value: s.value })),
    ...extra,
  ];
  const tooShort: string[] = [];
  for (const s of secrets) if (!registerSecret(s.label, s.value)) tooShort.push(s.label);
  return tooShort;
}

export const tooShortWarning = (names: string[]) =>
  `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} too guessable to be redacted from logs and job events without mangling ordinary words ` +
  `(under ${MIN_SECRET_LENGTH} characters, or only letters and under ${MIN_LETTERS_ONLY_LENGTH}): use a long random value`;
