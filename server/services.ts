import type pg from 'pg';
import type { Config } from './config.ts';
import type { Db } from './db/prisma.ts';
import type { EventBus } from './realtime/event-bus.ts';
import type { OutputBus } from './realtime/output-bus.ts';
import type { PrincipalCache } from './auth/principal-cache.ts';
import type { Logger } from './logger.ts';
import type { ArtifactStore } from './storage/artifact-store.ts';
import type { Metrics } from './observability/metrics.ts';
import type { Tracer } from '@opentelemetry/api';

/** What the API and the worker share, passed explicitly instead of module-level singletons. */
export interface Services {
  config: Config;
  pool: pg.Pool;
  db: Db;
  events: EventBus;
  /** Live model text (deltas), not stored. */
  output: OutputBus;
  /** Bearer secret → principal, without a query per request (revocations: see PrincipalCache). */
  principals: PrincipalCache;
  log: Logger;
  artifacts: ArtifactStore;
  /** Signs artifact download URLs. */
  signingKey: string;
  metrics: Metrics;
  tracer: Tracer;
}
