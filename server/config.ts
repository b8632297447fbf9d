import path from 'node:path';

export type Role = 'api' | 'worker' | 'all';

export interface Config {
  port: number;
  host: string;
  role: Role;
  databaseUrl?: string;
  redisUrl?: string;
  dataDir: string;
  adminToken?: string;
  production: boolean;
  logLevel: string;
  workerConcurrency: number;
  model: { provider: 'offline' | 'openai'; baseUrl?: string; apiKey?: string; model?: string };
}

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

/** Every environment variable AutoDev reads is read here (and listed in the README). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const role = (env.AUTODEV_ROLE ?? 'all') as Role;
  if (!['api', 'worker', 'all'].includes(role)) throw new Error(`AUTODEV_ROLE must be api, worker or all, got "${role}"`);
  const provider = (env.AUTODEV_MODEL_PROVIDER ?? (env.AUTODEV_MODEL_BASE_URL ? 'openai' : 'offline')) as 'offline' | 'openai';
  if (!['offline', 'openai'].includes(provider)) throw new Error(`AUTODEV_MODEL_PROVIDER must be offline or openai, got "${provider}"`);
  return {
    port: int('PORT', env.PORT, 4000),
    host: env.HOST ?? '0.0.0.0',
    role,
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    dataDir: path.resolve(env.AUTODEV_DATA_DIR ?? '.data'),
    adminToken: env.AUTODEV_ADMIN_TOKEN || undefined,
    production: env.NODE_ENV === 'production',
    logLevel: env.LOG_LEVEL ?? 'info',
    workerConcurrency: int('AUTODEV_WORKER_CONCURRENCY', env.AUTODEV_WORKER_CONCURRENCY, 4),
    model: {
      provider,
      baseUrl: env.AUTODEV_MODEL_BASE_URL || undefined,
      apiKey: env.AUTODEV_MODEL_API_KEY || undefined,
      model: env.AUTODEV_MODEL || undefined,
    },
  };
}
