import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { waitForJob } from '../test/scripted.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.ts';

// A PostgreSQL of this test's own (embedded), which it stops and starts again under a running
// API + worker.
let dir: string;
let pg: EmbeddedDatabase;
let port: number;
let t: TestServer;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'autodev-pg-restart-'));
  pg = await startEmbeddedPostgres(dir, () => {});
  port = Number(new URL(pg.url).port);
  t = await startTestServer({ databaseUrl: pg.url, role: 'all', env: { AUTODEV_EXECUTOR: 'inline', AUTODEV_ATTEMPT_LEASE_MS: '3000' } });
}, 120_000);
afterAll(async () => {
  await t?.close();
  await pg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const TERMINAL = ['SUCCEEDED', 'FAILED', 'AWAITING_REVIEW', 'CANCELLED'];
const ready = async () => (await fetch(`${t.url}/readyz`)).status;

describe('PostgreSQL restarts under a running API and worker', () => {
  it('requests during the outage get SERVICE_UNAVAILABLE promptly, /readyz says 503, and both reconnect by themselves', async () => {
    const first = (await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } })).data.createJob.id;
    expect((await waitForJob(t, first, TERMINAL)).state).toBe('SUCCEEDED');

    await pg.stop();
    const started = Date.now();
    const during = await t.gql(`{ templates { edges { node { slug } } } }`);
    const answeredMs = Date.now() - started;
    expect(during.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(during.errors?.[0].message).toMatch(/cannot reach its database/);
    expect(answeredMs).toBeLessThan(5000);
    const created = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } });
    expect(created.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(await ready()).toBe(503);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200); // the process itself is fine

    pg = await startEmbeddedPostgres(dir, () => {}, { port });
    const back = Date.now();
    await expect.poll(ready, { timeout: 30_000 }).toBe(200);
    const readyAfterMs = Date.now() - back;
    const after = (await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } })).data.createJob.id;
    // The worker took the job without being restarted.
    const job = await waitForJob(t, after, TERMINAL, 60_000);
    expect(job.state).toBe('SUCCEEDED');
    const { rows } = await t.app.services.pool.query(`SELECT count(*)::int AS n FROM "Job" WHERE state IN ('QUEUED', 'RUNNING')`);
    expect(rows[0].n).toBe(0);
    console.log(
      `postgres restart: SERVICE_UNAVAILABLE in ${answeredMs} ms during the outage; /readyz 200 again ${readyAfterMs} ms after PostgreSQL was back; a new job ran to completion on the same worker`,
    );
  }, 120_000);
});
