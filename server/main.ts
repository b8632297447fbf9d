import { startApp } from './app.ts';
import { loadConfig } from './config.ts';
import { createLogger } from './logger.ts';

const config = loadConfig();
const log = createLogger(config.logLevel, { role: config.role });

// Installed before start-up so that Ctrl-C during start-up still stops embedded PostgreSQL.
let stopping = false;
let stopApp: (() => Promise<void>) | null = null;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
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

const app = await startApp(config, log).catch((err: unknown) => {
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
