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
import { createEventBus } from './realtime/event-bus.ts';
import { createMemoryPubSub, type PubSub } from './realtime/pubsub.ts';
import { createRedisPubSub } from './realtime/redis-pubsub.ts';
import type { Services } from './services.ts';
import { seedTemplates } from './templates/seed-templates.ts';
import { selectExecutor } from './engine/select-executor.ts';
import { startWorker } from './engine/worker.ts';
import { selectArtifactStore } from './storage/select-artifact-store.ts';
import { localSecret } from './auth/bootstrap.ts';
import { createMetrics } from './observability/metrics.ts';
import { createTracing } from './observability/tracing.ts';

export interface RunningApp {
  services: Services;
  /** Base URL of the API (when this process serves it). */
  url?: string;
  /** The admin token to print (embedded default or AUTODEV_ADMIN_TOKEN). */
  adminToken?: string;
  adminTokenGenerated: boolean;
  defaultProjectId: string;
  stop(): Promise<void>;
}

function listen(server: http.Server, config: Config): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
}

/** Starts AutoDev with the given configuration: database, pub/sub, API and/or worker. */
export async function startApp(config: Config, log: Logger = createLogger(config.logLevel)): Promise<RunningApp> {
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => log.error('shutdown step failed', { error: String(err) }));
  };
  try {
    let embedded: EmbeddedDatabase | null = null;
    if (!config.databaseUrl) {
      embedded = await startEmbeddedPostgres(config.dataDir, (m) => log.warn(m));
      stops.push(() => embedded!.stop());
      log.info('embedded PostgreSQL started', { dataDir: config.dataDir });
    }
    const pool = createPool(config.databaseUrl ?? embedded!.url, config.dbPoolSize);
    stops.push(() => pool.end());
    const applied = await prepareDatabase(pool);
    if (applied.length) log.info('migrations applied', { applied });

    const pubsub: PubSub = config.redisUrl ? await createRedisPubSub(config.redisUrl, (m) => log.warn(m)) : createMemoryPubSub();
    stops.push(() => pubsub.close());
    const db = createPrisma(pool);
    stops.push(() => db.$disconnect());
    const tracing = createTracing({ endpoint: config.otlpTracesEndpoint, serviceName: config.serviceName, role: config.role });
    stops.push(() => tracing.shutdown());
    const services: Services = {
      config,
      pool,
      db,
      events: createEventBus(pubsub, (err) => log.warn('publish failed', { error: String(err) })),
      log,
      artifacts: await selectArtifactStore(config),
      signingKey: config.signingKey ?? (await localSecret(config.dataDir, 'signing-key')).secret,
      metrics: createMetrics(),
      tracer: tracing.tracer,
    };

    const defaultProjectId = await ensureProject(pool, DEFAULT_PROJECT_SLUG, 'Default project');
    await seedTemplates(pool, defaultProjectId);
    let adminToken = config.adminToken;
    let adminTokenGenerated = false;
    if (!adminToken && embedded) {
      const local = await localSecret(config.dataDir, 'admin-token');
      adminToken = local.secret;
      adminTokenGenerated = local.generated;
    }
    if (adminToken) await ensureBootstrapAdmin(pool, defaultProjectId, adminToken);

    if (config.role !== 'api') {
      const executor = await selectExecutor(config, log);
      const worker = await startWorker(services, { executor, store: services.artifacts });
      stops.push(() => worker.stop());
    }

    let url: string | undefined;
    if (config.role !== 'worker') {
      const api: ApiServer = createApiServer(services);
      await listen(api.server, config);
      stops.push(() => api.close());
      const port = (api.server.address() as AddressInfo).port;
      const host = ['0.0.0.0', '::', ''].includes(config.host) ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
      url = `http://${host}:${port}`;
    }
    if (config.role === 'worker') {
      const ops = createOpsServer(services);
      await listen(ops, config);
      stops.push(() => new Promise<void>((r) => ops.close(() => r())));
    }
    return { services, url, adminToken, adminTokenGenerated, defaultProjectId, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
