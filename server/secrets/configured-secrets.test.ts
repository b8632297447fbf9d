import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { registerConfiguredSecrets } from './configured-secrets.ts';
import { redactText } from './redact.ts';

describe('the secrets an operator configures', () => {
  it('are all redacted once registered: model key, admin token, signing key, metrics token, S3 secret, database and Redis passwords, provider keys, AUTODEV_SECRET_ENV variables', () => {
    const values = {
      AUTODEV_MODEL_API_KEY: 'model-key-0a9s8d7f',
      AUTODEV_ADMIN_TOKEN: 'admin-token-1q2w3e4r',
      AUTODEV_SIGNING_KEY: 'signing-key-5t6y7u8i',
      AUTODEV_METRICS_TOKEN: 'metrics-token-3z4x5c6v',
      AWS_SECRET_ACCESS_KEY: 's3-secret-9o0p1a2s',
      DB_PASSWORD: 'db-pass-3d4f5g6h',
      REDIS_PASSWORD: 'redis-pass-7j8k9l0z',
      OPENAI_API_KEY: 'openai-key-x1c2v3b4',
      ANTHROPIC_API_KEY: 'anthropic-key-n5m6q7w8',
      GIT_TOKEN: 'git-token-e9r0t1y2',
    };
    const config = loadConfig({
      ...values,
      AWS_ACCESS_KEY_ID: 'AKID',
      DATABASE_URL: `postgres://app:${encodeURIComponent(values.DB_PASSWORD)}@db:5432/autodev`,
      REDIS_URL: `redis://:${values.REDIS_PASSWORD}@redis:6379`,
      AUTODEV_SECRET_ENV: 'GIT_TOKEN, UNSET_VARIABLE',
    });
    expect(registerConfiguredSecrets(config)).toEqual([]);
    const text = Object.entries(values)
      .map(([k, v]) => `${k} is ${v}`)
      .join('; ');
    const redacted = redactText(text);
    for (const [name, value] of Object.entries(values)) expect(redacted, name).not.toContain(value);
    expect(redacted).toContain('GIT_TOKEN is [redacted]');
  });

  it('a value too guessable to redact safely (compose’s database password `autodev`) is reported by its label, not registered', () => {
    const config = loadConfig({ AUTODEV_SIGNING_KEY: 'abc', DATABASE_URL: 'postgres://postgres:autodev@postgres:5432/autodev' });
    expect(registerConfiguredSecrets(config)).toEqual(['the signing key', 'the database password']);
    expect(redactText('abc autodev')).toBe('abc autodev');
  });
});
