import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOpsServer } from './http/ops-server.ts';
import { DEFAULT_PROJECT_SLUG, ensureBootstrapAdmin, ensureProject } from './auth/bootstrap.ts';
import type { Config } from './config.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded-postgres.ts';
import { createPool } from './db/pool.ts';
import { prepareDatabase } from './db/prepare-database.ts';
import { createPrisma } from './db/prisma.ts';
import { createApiServer, type ApiServer } from './http/create-server.ts';
import { createLogger, type Logger } from './logger.ts';
import { registerConfiguredSecrets, tooShortWarning } from './secrets/configured-secrets.ts';
import { registerSecret } from './secrets/redact.ts';
import { createEventBus } from './realtime/event-bus.ts';
import { createMemoryPubSub, type PubSub } from './realtime/pubsub.ts';
import { createOutputBus } from './realtime/output-bus.ts';
import type { Services } from './services.ts';
import { createPrincipalCache } from './auth/principal-cache.ts';
import { seedTemplates } from './templates/seed-templates.ts';
import { prepareSampleRepository } from './examples/sample-repository.ts';
import { selectExecutor } from './engine/select-executor.ts';
import { startWorker } from './engine/worker.ts';
import { selectArtifactStore } from './storage/select-artifact-store.ts';
import { localSecret } from './auth/bootstrap.ts';
import { createMetrics } from './observability/metrics.ts';
import { createTracing } from './observability/tracing.ts';
import { configureValidation, stopValidationWorker } from './guardrails/validation-pool.ts';
import { closeHttpServer } from './http/close-server.ts';

export interface RunningApp {
  services: Services;
  /** Base URL of the API (when this process serves it). */
  url?: string;
  /** Base URL of the ops server (`/metrics`, `/healthz`, `/readyz`) when AUTODEV_METRICS_PORT is set. */
  metricsUrl?: string;
  /** The admin token to print (embedded default or AUTODEV_ADMIN_TOKEN). */
  adminToken?: string;
  adminTokenGenerated: boolean;
  defaultProjectId: string;
  stop: () => Promise<void>;
}

/** Listens and returns the base URL clients reach it at. */
function listen(server: http.Server, config: Config, port: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, config.host, () => {
      const host = ['0.0.0.0', '::', ''].includes(config.host) ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
      resolve(`http://${host}:${(server.address() as AddressInfo).port}`);
    });
  });
}

/**
 * Starts AutoDev with the given configuration: database, pub/sub, API and/or worker.
 * `embedded`: the embedded PostgreSQL's start when the caller began it already (main.ts starts it
 * before loading this module, so that the two overlap); otherwise it is started here when
 * `config.databaseUrl` is unset. Either way it is stopped with the app, or when the start fails.
 */
export async function startApp(
  config: Config,
  log: Logger = createLogger(config.logLevel),
  opts: { embedded?: Promise<EmbeddedDatabase> } = {},
): Promise<RunningApp> {
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => log.error('shutdown step failed', { error: String(err) }));
  };
  try {
    const tooShort = registerConfiguredSecrets(config);
    if (tooShort.length) log.warn(tooShortWarning(tooShort));
    let embedded: EmbeddedDatabase | null = null;
    if (!config.databaseUrl) {
      embedded = await (opts.embedded ?? startEmbeddedPostgres(config.dataDir, (m) => log.warn(m)));
      stops.push(() => embedded!.stop());
      log.info('embedded PostgreSQL started', { dataDir: config.dataDir });
    }
    const pool = createPool(config.databaseUrl ?? embedded!.url, config.dbPoolSize);
    stops.push(() => pool.end());
    const applied = await prepareDatabase(pool);
    if (applied.length) log.info('migrations applied', { applied });

    // ioredis only when configured (importing it cost every embedded start ~60 ms).
    const pubsub: PubSub = config.redisUrl
      ? await (await import('./realtime/redis-pubsub.ts')).createRedisPubSub(config.redisUrl, (m) => log.warn(m))
      : createMemoryPubSub();
    stops.push(() => pubsub.close());
    const db = createPrisma(pool);
    stops.push(() => db.$disconnect());
    const tracing = await createTracing({ endpoint: config.otlpTracesEndpoint, serviceName: config.serviceName, role: config.role });
    stops.push(() => tracing.shutdown());
    configureValidation({ timeoutMs: config.validationTimeoutMs });
    stops.push(() => stopValidationWorker());
    const events = createEventBus(pubsub, (err) => log.warn('publish failed', { error: String(err) }));
    const principals = createPrincipalCache({
      pool,
      events,
      ttlMs: config.tokenRecheckMs,
      onError: (err) => log.warn('token revocation subscribe failed', { error: String(err) }),
    });
    stops.push(() => principals.close());
    const services: Services = {
      config,
      pool,
      db,
      output: createOutputBus(pubsub, (err) => log.warn('publish of live output failed', { error: String(err) })),
      events,
      principals,
      log,
      artifacts: await selectArtifactStore(config),
      signingKey: config.signingKey ?? (await localSecret(config.dataDir, 'signing-key')).secret,
      metrics: createMetrics(),
      tracer: tracing.tracer,
    };

    await services.artifacts.check?.();
    const defaultProjectId = await ensureProject(pool, DEFAULT_PROJECT_SLUG, 'Default project');
    await seedTemplates(pool, defaultProjectId);
    // The sample repository (examples/sample-repo) as a git repository jobs can name.
    await prepareSampleRepository(config.sampleRepository).then(
      (dir) => log.info('sample repository ready', { repository: dir }),
      (err: unknown) => log.warn('could not prepare the sample repository', { error: String(err) }),
    );
    let adminToken = config.adminToken;
    let adminTokenGenerated = false;
    if (!adminToken && embedded) {
      const local = await localSecret(config.dataDir, 'admin-token');
      adminToken = local.secret;
      adminTokenGenerated = local.generated;
    }
    registerSecret('the signing key', services.signingKey);
    registerSecret('the admin token', adminToken);
    if (adminToken) await ensureBootstrapAdmin(pool, defaultProjectId, adminToken);

    if (config.role !== 'api') {
      const executor = await selectExecutor(config, log);
      const worker = await startWorker(services, { executor, store: services.artifacts });
      stops.push(() => worker.stop());
    }

    let url: string | undefined;
    if (config.role !== 'worker') {
      const api: ApiServer = createApiServer(services);
      url = await listen(api.server, config, config.port);
      stops.push(() => api.close());
    }
    // The ops server: a worker's only port, and AUTODEV_METRICS_PORT for any role.
    const opsPorts = new Set([
      ...(config.role === 'worker' ? [config.port] : []),
      ...(config.metricsPort !== undefined ? [config.metricsPort] : []),
    ]);
    let metricsUrl: string | undefined;
    for (const port of opsPorts) {
      const ops = createOpsServer(services);
      const opsUrl = await listen(ops, config, port);
      if (port === config.metricsPort) metricsUrl = opsUrl;
      stops.push(() => closeHttpServer(ops));
    }
    return { services, url, metricsUrl, adminToken, adminTokenGenerated, defaultProjectId, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
