import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isWorkerCredential } from './runner-protocol/runner-env.ts';
import { allKeyVariables, parseProvidersConfig, type ProvidersConfig } from './runner-protocol/model-providers.ts';

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
  /** Queries in the compiled subset answered by one SQL statement (server/http/compiled-read-plugin.ts); AUTODEV_COMPILED_READS=off: never. */
  compiledReads: boolean;
  logLevel: (typeof LOG_LEVELS)[number];
  workerConcurrency: number;
  /** Attempts of one project that may run at once across all workers, for projects that set no
   *  limit of their own (null: no limit). AUTODEV_PROJECT_MAX_RUNNING_ATTEMPTS; unset or 0: none. */
  projectMaxRunningAttempts: number | null;
  /** PostgreSQL connections per process (API, worker and graphile-worker share them). */
  dbPoolSize: number;
  /** `local` (a child process per attempt, the default), `kubernetes` (a Job per attempt) or `inline` (in the worker; benchmarks). */
  executor: 'local' | 'inline' | 'kubernetes';
  kubernetes: {
    kubeconfig?: string;
    namespace: string;
    image: string;
    command: string[];
    secretName: string;
    jobTtlSeconds: number;
    /** Requests (= limits) of a runner pod whose template sets none: a Guaranteed pod a ResourceQuota admits. */
    runnerResources: { cpu: string; memory: string };
  };
  limits: {
    mutationsPerMinute: number;
    subscriptionsPerToken: number;
    maxRequestBytes: number;
    subscriberBufferBytes: number;
    /** Bytes of large fields (inputs, outputs, event data, long texts) one query or mutation may return. */
    maxResponseBytes: number;
    /** Objects one query or mutation could return at most, counted from the document before it runs. */
    maxRowsPerRequest: number;
    /** Files one job may store over all its attempts; the attempt that would store more fails ARTIFACT_LIMIT_REACHED. */
    maxArtifactsPerJob: number;
    /** Events one job may store; a runner event beyond fails the attempt with EVENT_LIMIT_REACHED (state changes are always stored). */
    maxEventsPerJob: number;
  };
  /** WebSocket admission: caps per process and per remote address, and the wait for `connection_init`. */
  websocket: { maxConnections: number; maxConnectionsPerAddress: number; initTimeoutMs: number };
  /** How often each API process rechecks the tokens of open subscriptions (bounds a revocation whose publish was lost). */
  tokenRecheckMs: number;
  /** Wall-clock limit of one check of a user's JSON Schema in the validation worker (AUTODEV_VALIDATION_TIMEOUT_MS). */
  validationTimeoutMs: number;
  /** `local` (files under the data directory, the default) or `s3`. */
  artifactStore: 'local' | 's3';
  s3: {
    bucket?: string;
    region: string;
    endpoint?: string;
    publicEndpoint?: string;
    forcePathStyle: boolean;
    prefix: string;
    credentials?: { accessKeyId: string; secretAccessKey: string };
  };
  /** Names templates may pass to runners in `executor.env`, beyond the fixed safe set (AUTODEV_RUNNER_ENV_ALLOW). */
  runnerEnvAllow: string[];
  /** Directories a job may name a local repository in (AUTODEV_REPOSITORY_ROOTS, comma-separated absolute paths). */
  repositoryRoots: string[];
  /** Whether a template may give commands the host network (workspace.network: host), AUTODEV_SANDBOX_NETWORK=allow. */
  sandboxNetwork: boolean;
  /** Webhooks may go to private, loopback and link-local addresses (tests, on-premises receivers), AUTODEV_WEBHOOK_ALLOW_PRIVATE. */
  webhookAllowPrivate: boolean;
  /**
   * Webhook deliveries: one attempt's deadline (AUTODEV_WEBHOOK_TIMEOUT_MS), the first retry's delay,
   * doubling per attempt (AUTODEV_WEBHOOK_RETRY_BASE_MS), and attempts in all (AUTODEV_WEBHOOK_MAX_ATTEMPTS).
   * Defaults 10 s, 30 s, 13: retries over 34 h (server/webhooks/retry-schedule.ts).
   */
  webhookDelivery: { timeoutMs: number; retryBaseMs: number; maxAttempts: number };
  /** Where start-up makes a git repository of examples/sample-repo (always a permitted local repository). */
  sampleRepository: string;
  /** The runner command (argv) the local executor starts; default: the reference runner. */
  runnerCommand?: string[];
  /** First retry delay; doubles per attempt. */
  retryBaseMs: number;
  /** A running attempt whose heartbeat is older than this is lost and retried. */
  attemptLeaseMs: number;
  /** Key for signed artifact download URLs; all API instances must share it. */
  signingKey?: string;
  /** Base URL clients reach the API at (for download links); default: the listening address. */
  publicUrl?: string;
  /** A port of its own for `/metrics`, `/healthz` and `/readyz` (for scrapers and probes, not the public). */
  metricsPort?: number;
  /** When set, `/metrics` needs `Authorization: Bearer <it>` on any port (and is then served on the API port too). */
  metricsToken?: string;
  /** Origins whose web pages may call the API (CORS); empty: same origin only. `*`: any origin. */
  corsOrigins: string[];
  /** OTLP/HTTP traces endpoint; tracing is off without it. */
  otlpTracesEndpoint?: string;
  serviceName: string;
  /** `timeoutMs`: per model request, passed to every runner in its spec (local and Kubernetes alike). */
  /**
   * `provider`: `offline` (every agent on the deterministic model) or `openai` (each agent's model
   * on the providers configured). `providers`: AUTODEV_MODEL_PROVIDERS, keys by variable name only.
   */
  model: {
    provider: 'offline' | 'openai';
    baseUrl?: string;
    apiKey?: string;
    model?: string;
    offlineDelayMs: number;
    timeoutMs: number;
    stream: boolean;
    providers?: ProvidersConfig;
  };
  /** OPENAI_API_KEY, ANTHROPIC_API_KEY and the variables named in AUTODEV_SECRET_ENV: their values are redacted like the built-in secrets. */
  secretEnv: { name: string; value: string }[];
}

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === '') return fallback;
  if (!allowed.includes(value as T)) throw new Error(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/** The namespace a pod runs in, when AutoDev itself runs on Kubernetes. */
function inClusterNamespace(): string | undefined {
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** `GITHUB_TOKEN,NPM_TOKEN`: variable names; the worker's own credentials cannot be allowed. */
function repositoryRoots(value: string | undefined): string[] {
  const roots = (value ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const relative = roots.find((p) => !path.isAbsolute(p));
  if (relative) throw new Error(`AUTODEV_REPOSITORY_ROOTS must list absolute paths; "${relative}" is not one`);
  return roots;
}

function runnerEnvAllowList(value: string | undefined): string[] {
  const names = (value ?? '').split(/[\s,]+/).filter(Boolean);
  for (const n of names) {
    if (!/^[A-Z_][A-Z0-9_]{0,127}$/.test(n))
      throw new Error(`AUTODEV_RUNNER_ENV_ALLOW names "${n}", which is not an environment variable name`);
    if (isWorkerCredential(n))
      throw new Error(`AUTODEV_RUNNER_ENV_ALLOW names ${n}, one of the worker's own credentials, which runners never get`);
  }
  return names;
}

/** A Kubernetes resource quantity (`500m`, `1`, `512Mi`, `1G`), checked here so a typo fails at start-up, not per Job. */
function quantity(name: string, value: string | undefined, fallback: string): string {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+(\.\d+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.test(value))
    throw new Error(`${name} must be a Kubernetes quantity such as 500m, 1, 512Mi; got "${value}"`);
  return value;
}

/** A JSON array (`["node","runner.js"]`) or a space-separated command line. */
function parseCommand(value: string): string[] {
  if (value.trim().startsWith('[')) {
    const argv: unknown = JSON.parse(value);
    if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a): a is string => typeof a === 'string')) {
      throw new Error('AUTODEV_RUNNER_COMMAND must be a JSON array of strings');
    }
    return argv;
  }
  return value.trim().split(/\s+/);
}

/** A comma-separated list of origins (`https://app.example.com`), or `*`. */
function parseOrigins(value: string | undefined): string[] {
  const origins = (value ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    if (origin !== '*' && (!URL.canParse(origin) || new URL(origin).origin !== origin)) {
      throw new Error(
        `AUTODEV_CORS_ORIGINS must list origins such as https://app.example.com (scheme, host, port; no path), or *; got "${origin}"`,
      );
    }
  }
  return origins;
}

/** AUTODEV_MODEL_PROVIDERS, checked at start: a key is named by a variable, never one of the worker's own credentials. */
function modelProviders(value: string | undefined): ProvidersConfig | undefined {
  if (!value?.trim()) return undefined;
  let config: ProvidersConfig;
  try {
    config = parseProvidersConfig(value);
  } catch (err) {
    throw new Error(`AUTODEV_MODEL_PROVIDERS: ${(err as Error).message}`, { cause: err });
  }
  for (const [name, endpoint] of Object.entries(config.providers)) {
    if (endpoint.apiKeyEnv && isWorkerCredential(endpoint.apiKeyEnv)) {
      throw new Error(
        `AUTODEV_MODEL_PROVIDERS: provider "${name}" takes its key from ${endpoint.apiKeyEnv}, one of the worker's own variables, which runners never get; name another variable`,
      );
    }
  }
  if (config.defaultProvider && !config.providers[config.defaultProvider] && !['openai', 'anthropic'].includes(config.defaultProvider)) {
    throw new Error(`AUTODEV_MODEL_PROVIDERS: defaultProvider "${config.defaultProvider}" is not one of the providers`);
  }
  return config;
}

/** pino's levels; `silent` logs nothing. */
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** The runner's command in the image (Dockerfile: the compiled tree in /app/dist); absolute, since a runner pod works in /tmp. */
export const RUNNER_POD_COMMAND = ['node', '/app/dist/server/runner/main.js'];

/** Every environment variable AutoDev reads is read here (and listed in the README). */

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const role: Role = oneOf('AUTODEV_ROLE', env.AUTODEV_ROLE, ['api', 'worker', 'all'] as const, 'all');
  // An empty variable counts as unset, as everywhere here: `AUTODEV_DATA_DIR=` put the database,
  // the admin token and the signing key in the working directory (a checkout's root, say).
  const dataDir = path.resolve(env.AUTODEV_DATA_DIR || '.data');
  const providers = modelProviders(env.AUTODEV_MODEL_PROVIDERS);
  const provider = oneOf(
    'AUTODEV_MODEL_PROVIDER',
    env.AUTODEV_MODEL_PROVIDER,
    ['offline', 'openai'] as const,
    env.AUTODEV_MODEL_BASE_URL || providers ? 'openai' : 'offline',
  );
  const config: Config = {
    port: int('PORT', env.PORT, 4000),
    host: env.HOST || '0.0.0.0',
    role,
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    dataDir,
    adminToken: env.AUTODEV_ADMIN_TOKEN || undefined,
    production: env.NODE_ENV === 'production',
    compiledReads: oneOf('AUTODEV_COMPILED_READS', env.AUTODEV_COMPILED_READS, ['on', 'off'] as const, 'on') === 'on',
    logLevel: oneOf('LOG_LEVEL', env.LOG_LEVEL, LOG_LEVELS, 'info'),
    workerConcurrency: int('AUTODEV_WORKER_CONCURRENCY', env.AUTODEV_WORKER_CONCURRENCY, 4),
    projectMaxRunningAttempts: int('AUTODEV_PROJECT_MAX_RUNNING_ATTEMPTS', env.AUTODEV_PROJECT_MAX_RUNNING_ATTEMPTS, 0) || null,
    dbPoolSize: Math.max(2, int('AUTODEV_DB_POOL_SIZE', env.AUTODEV_DB_POOL_SIZE, 20)),
    executor: oneOf('AUTODEV_EXECUTOR', env.AUTODEV_EXECUTOR, ['local', 'inline', 'kubernetes'] as const, 'local'),
    kubernetes: {
      kubeconfig: env.KUBECONFIG || undefined,
      namespace: env.AUTODEV_K8S_NAMESPACE || inClusterNamespace() || 'default',
      image: env.AUTODEV_K8S_RUNNER_IMAGE || 'autodev:latest',
      command: env.AUTODEV_K8S_RUNNER_COMMAND ? parseCommand(env.AUTODEV_K8S_RUNNER_COMMAND) : RUNNER_POD_COMMAND,
      secretName: env.AUTODEV_K8S_SECRET || 'autodev-runner',
      jobTtlSeconds: int('AUTODEV_K8S_JOB_TTL_SECONDS', env.AUTODEV_K8S_JOB_TTL_SECONDS, 3600),
      runnerResources: {
        cpu: quantity('AUTODEV_K8S_RUNNER_CPU', env.AUTODEV_K8S_RUNNER_CPU, '500m'),
        memory: quantity('AUTODEV_K8S_RUNNER_MEMORY', env.AUTODEV_K8S_RUNNER_MEMORY, '512Mi'),
      },
    },
    limits: {
      mutationsPerMinute: int('AUTODEV_RATE_LIMIT_MUTATIONS_PER_MINUTE', env.AUTODEV_RATE_LIMIT_MUTATIONS_PER_MINUTE, 600),
      subscriptionsPerToken: int('AUTODEV_MAX_SUBSCRIPTIONS_PER_TOKEN', env.AUTODEV_MAX_SUBSCRIPTIONS_PER_TOKEN, 250),
      maxRequestBytes: int('AUTODEV_MAX_REQUEST_BYTES', env.AUTODEV_MAX_REQUEST_BYTES, 2 * 1024 * 1024),
      subscriberBufferBytes: int('AUTODEV_SUBSCRIBER_BUFFER_BYTES', env.AUTODEV_SUBSCRIBER_BUFFER_BYTES, 4 * 1024 * 1024),
      maxResponseBytes: int('AUTODEV_MAX_RESPONSE_BYTES', env.AUTODEV_MAX_RESPONSE_BYTES, 16 * 1024 * 1024),
      maxRowsPerRequest: int('AUTODEV_MAX_ROWS_PER_REQUEST', env.AUTODEV_MAX_ROWS_PER_REQUEST, 20_000),
      maxArtifactsPerJob: int('AUTODEV_MAX_ARTIFACTS_PER_JOB', env.AUTODEV_MAX_ARTIFACTS_PER_JOB, 200),
      maxEventsPerJob: int('AUTODEV_MAX_EVENTS_PER_JOB', env.AUTODEV_MAX_EVENTS_PER_JOB, 50_000),
    },
    websocket: {
      maxConnections: int('AUTODEV_WS_MAX_CONNECTIONS', env.AUTODEV_WS_MAX_CONNECTIONS, 5000),
      maxConnectionsPerAddress: int('AUTODEV_WS_MAX_CONNECTIONS_PER_ADDRESS', env.AUTODEV_WS_MAX_CONNECTIONS_PER_ADDRESS, 100),
      initTimeoutMs: Math.max(100, int('AUTODEV_WS_INIT_TIMEOUT_MS', env.AUTODEV_WS_INIT_TIMEOUT_MS, 5000)),
    },
    validationTimeoutMs: Math.max(50, int('AUTODEV_VALIDATION_TIMEOUT_MS', env.AUTODEV_VALIDATION_TIMEOUT_MS, 2000)),
    tokenRecheckMs: Math.max(1, int('AUTODEV_TOKEN_RECHECK_SECONDS', env.AUTODEV_TOKEN_RECHECK_SECONDS, 15)) * 1000,
    artifactStore: oneOf('AUTODEV_ARTIFACT_STORE', env.AUTODEV_ARTIFACT_STORE, ['local', 's3'] as const, 'local'),
    s3: {
      bucket: env.AUTODEV_S3_BUCKET || undefined,
      region: env.AUTODEV_S3_REGION || env.AWS_REGION || 'us-east-1',
      endpoint: env.AUTODEV_S3_ENDPOINT || undefined,
      publicEndpoint: env.AUTODEV_S3_PUBLIC_ENDPOINT || undefined,
      forcePathStyle: env.AUTODEV_S3_FORCE_PATH_STYLE === 'true' || env.AUTODEV_S3_FORCE_PATH_STYLE === '1',
      prefix: env.AUTODEV_S3_PREFIX ?? 'artifacts/',
      // Unset → the AWS SDK's default chain (web identity on EKS, instance role, shared files).
      credentials:
        env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
          ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }
          : undefined,
    },
    runnerEnvAllow: runnerEnvAllowList(env.AUTODEV_RUNNER_ENV_ALLOW),
    repositoryRoots: [...repositoryRoots(env.AUTODEV_REPOSITORY_ROOTS), path.join(dataDir, 'sample-repo')],
    webhookAllowPrivate: env.AUTODEV_WEBHOOK_ALLOW_PRIVATE === 'true' || env.AUTODEV_WEBHOOK_ALLOW_PRIVATE === '1',
    webhookDelivery: {
      timeoutMs: Math.max(1, int('AUTODEV_WEBHOOK_TIMEOUT_MS', env.AUTODEV_WEBHOOK_TIMEOUT_MS, 10_000)),
      retryBaseMs: int('AUTODEV_WEBHOOK_RETRY_BASE_MS', env.AUTODEV_WEBHOOK_RETRY_BASE_MS, 30_000),
      maxAttempts: Math.max(1, int('AUTODEV_WEBHOOK_MAX_ATTEMPTS', env.AUTODEV_WEBHOOK_MAX_ATTEMPTS, 13)),
    },
    sandboxNetwork: oneOf('AUTODEV_SANDBOX_NETWORK', env.AUTODEV_SANDBOX_NETWORK, ['allow', 'deny'] as const, 'deny') === 'allow',
    sampleRepository: path.join(dataDir, 'sample-repo'),
    runnerCommand: env.AUTODEV_RUNNER_COMMAND ? parseCommand(env.AUTODEV_RUNNER_COMMAND) : undefined,
    retryBaseMs: int('AUTODEV_RETRY_BASE_MS', env.AUTODEV_RETRY_BASE_MS, 2000),
    attemptLeaseMs: int('AUTODEV_ATTEMPT_LEASE_MS', env.AUTODEV_ATTEMPT_LEASE_MS, 30_000),
    signingKey: env.AUTODEV_SIGNING_KEY || undefined,
    publicUrl: env.AUTODEV_PUBLIC_URL || undefined,
    metricsPort: env.AUTODEV_METRICS_PORT ? int('AUTODEV_METRICS_PORT', env.AUTODEV_METRICS_PORT, 0) : undefined,
    metricsToken: env.AUTODEV_METRICS_TOKEN || undefined,
    corsOrigins: parseOrigins(env.AUTODEV_CORS_ORIGINS),
    otlpTracesEndpoint:
      env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
      (env.OTEL_EXPORTER_OTLP_ENDPOINT ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : undefined),
    serviceName: env.OTEL_SERVICE_NAME || 'autodev',
    model: {
      provider,
      baseUrl: env.AUTODEV_MODEL_BASE_URL || undefined,
      apiKey: env.AUTODEV_MODEL_API_KEY || undefined,
      model: env.AUTODEV_MODEL || undefined,
      offlineDelayMs: int('AUTODEV_OFFLINE_DELAY_MS', env.AUTODEV_OFFLINE_DELAY_MS, 0),
      timeoutMs: Math.max(1000, int('AUTODEV_MODEL_TIMEOUT_MS', env.AUTODEV_MODEL_TIMEOUT_MS, 120_000)),
      // Agent-runtime crews stream each model answer (same loop, same events).
      stream: env.AUTODEV_MODEL_STREAM === '1' || env.AUTODEV_MODEL_STREAM === 'true',
      ...(providers ? { providers } : {}),
    },
    // The model providers' key variables (built-in OPENAI_API_KEY, ANTHROPIC_API_KEY and those
    // AUTODEV_MODEL_PROVIDERS names) are secrets without being named.
    // So are the variables the operator lets runners have (AUTODEV_RUNNER_ENV_ALLOW): credentials
    // such as a git token, which templates name by reference.
    secretEnv: [
      ...new Set([
        ...allKeyVariables(providers ?? { providers: {} }),
        ...runnerEnvAllowList(env.AUTODEV_RUNNER_ENV_ALLOW),
        ...(env.AUTODEV_SECRET_ENV ?? '').split(',').map((name) => name.trim()),
      ]),
    ]
      .filter((name) => name && env[name])
      .map((name) => ({ name, value: env[name]! })),
  };
  if (config.artifactStore === 's3' && !config.s3.bucket) throw new Error('AUTODEV_ARTIFACT_STORE=s3 needs AUTODEV_S3_BUCKET');
  return config;
}
