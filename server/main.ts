import { loadConfig } from './config.ts';
import { startEmbeddedPostgres } from './db/embedded-postgres.ts';
import { createLogger } from './logger.ts';

const config = loadConfig();
const log = createLogger(config.logLevel, { role: config.role });

// Installed before start-up so that Ctrl-C during start-up still stops embedded PostgreSQL. SIGHUP (the
// terminal closed) stops too: by default it ended Node at once, leaving the embedded PostgreSQL, which
// runs in a session of its own, to the next start.
let stopping = false;
let stopApp: (() => Promise<void>) | null = null;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    setTimeout(() => process.exit(1), 30_000).unref();
    if (stopApp)
      stopApp().then(
        () => process.exit(0),
        () => process.exit(1),
      );
  });
}

// Without DATABASE_URL, the embedded PostgreSQL (its own process) starts while the server's modules
// load (most of a start's CPU); startApp awaits it and reports its failure. Handled here so that a
// failure before startApp awaits it is not an unhandled rejection.
const embedded = config.databaseUrl ? undefined : startEmbeddedPostgres(config.dataDir, (m) => log.warn(m));
embedded?.catch(() => {});

const { startApp } = await import('./app.ts').catch(async (err: unknown) => {
  await embedded?.then((db) => db.stop()).catch(() => {});
  throw err;
});
const app = await startApp(config, log, { embedded }).catch((err: unknown) => {
  log.error('AutoDev failed to start', { error: err instanceof Error ? err.message : `an error without a message (${String(err)})` });
  process.exit(1);
});

if (app.url) {
  const lines = [
    '',
    `  AutoDev is running (${config.role}).`,
    `  Web app:            ${app.url}/${app.adminToken && !config.adminToken ? `#token=${app.adminToken}` : ''}`,
    `  GraphQL + GraphiQL: ${app.url}/graphql`,
    `  Health:             ${app.url}/healthz  ${app.url}/readyz`,
  ];
  if (app.metricsUrl) lines.push(`  Metrics:            ${app.metricsUrl}/metrics`);
  if (app.adminToken && !config.adminToken) {
    lines.push(`  Admin token${app.adminTokenGenerated ? ' (new)' : ''}: ${app.adminToken}`);
    lines.push(`  (kept in ${config.dataDir}/admin-token; send it as "Authorization: Bearer <token>")`);
  }
  process.stdout.write(lines.join('\n') + '\n\n');
} else {
  process.stdout.write(`\n  AutoDev worker is running.${app.metricsUrl ? ` Metrics: ${app.metricsUrl}/metrics` : ''}\n\n`);
}

stopApp = app.stop;
if (stopping)
  app.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
