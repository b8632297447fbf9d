// The outbox: deliveries are written with the event, in its transaction, by one statement, and a
// project without endpoints pays nothing for webhooks. API only (no worker), so the queue entries
// stay in graphile-worker's table to be counted.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transitionJob } from '../jobs/transition-job.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { DELIVER_WEBHOOK_TASK } from './queue-delivery.ts';

/** The statements any pg client of this process sends while `fn` runs (transaction control included). */
async function statementsDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  const sent: string[] = [];
  proto.query = function (this: unknown, ...args: unknown[]) {
    const q = args[0] as string | { text?: string };
    sent.push((typeof q === 'string' ? q : (q?.text ?? '')).replace(/\s+/g, ' '));
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    proto.query = original;
  }
  return sent;
}

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

async function newJob(): Promise<string> {
  const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } });
  expect(res.errors).toBeUndefined();
  return res.data.createJob.id;
}
const deliveriesOf = async (jobId: string) =>
  (
    await t.app.services.pool.query<{ endpointId: string; eventType: string; queued: number }>(
      `SELECT d."endpointId", d."eventType",
              (SELECT count(*)::int FROM graphile_worker._private_jobs q JOIN graphile_worker._private_tasks k ON k.id = q.task_id
                WHERE k.identifier = $2 AND q.payload->>'deliveryId' = d.id::text) AS queued
         FROM "WebhookDelivery" d WHERE d.body::jsonb->'data'->>'jobId' = $1 ORDER BY d."eventType", d."endpointId"`,
      [jobId, DELIVER_WEBHOOK_TASK],
    )
  ).rows;
const createEndpoint = async (eventTypes: string[], url = 'https://hooks.example.com/x') => {
  const res = await t.gql(`mutation($input: WebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }`, {
    input: { url, eventTypes },
  });
  expect(res.errors).toBeUndefined();
  return res.data.createWebhookEndpoint.endpoint.id as string;
};

describe('the webhook outbox', () => {
  it('a project without endpoints: a state change sends the same statements as without webhooks; with endpoints, one INSERT … SELECT more', async () => {
    const services = t.app.services;
    const quiet = await newJob();
    const without = await statementsDuring(() => transitionJob(services, { jobId: quiet, to: 'CANCELLED', actor: 'test' }));
    expect(without.filter((s) => /WebhookDelivery|add_job/.test(s))).toEqual([]);

    const endpoints = [
      await createEndpoint(['JOB_STATE_CHANGED']),
      await createEndpoint(['JOB_STATE_CHANGED', 'BUDGET_THRESHOLD']),
      await createEndpoint(['REVIEW_REQUESTED']),
    ];
    const loud = await newJob();
    const withHooks = await statementsDuring(() => transitionJob(services, { jobId: loud, to: 'CANCELLED', actor: 'test' }));
    console.log(`statements of a state change: ${without.length} without endpoints, ${withHooks.length} with 3 endpoints`);
    expect(withHooks.length).toBe(without.length + 1);
    expect(withHooks.filter((s) => s.includes('INSERT INTO "WebhookDelivery"'))).toHaveLength(1);

    // One delivery per subscribed endpoint, each with its queue entry; none for the endpoint not subscribed.
    expect(await deliveriesOf(loud)).toEqual(
      [endpoints[0], endpoints[1]].sort().map((endpointId) => ({ endpointId, eventType: 'JOB_STATE_CHANGED', queued: 1 })),
    );
    expect(await deliveriesOf(quiet)).toEqual([]);
    for (const id of endpoints) await t.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id });
  });

  it('a state change that rolls back leaves no delivery and no queue entry; a disabled endpoint gets none', async () => {
    const services = t.app.services;
    const on = await createEndpoint(['JOB_STATE_CHANGED', 'REVIEW_REQUESTED', 'INPUT_REQUESTED']);
    const off = await createEndpoint(['JOB_STATE_CHANGED']);
    await t.gql(`mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { enabled: false }) { id } }`, { id: off });
    const job = await newJob();
    const queued = async () =>
      (
        await services.pool.query(
          `SELECT count(*)::int AS n FROM graphile_worker._private_jobs q JOIN graphile_worker._private_tasks k ON k.id = q.task_id WHERE k.identifier = $1`,
          [DELIVER_WEBHOOK_TASK],
        )
      ).rows[0].n as number;
    const before = await queued();
    const failing = transitionJob(services, {
      jobId: job,
      to: 'RUNNING',
      actor: 'test',
      effects: () => Promise.reject(new Error('the effect failed')),
    });
    await expect(failing).rejects.toThrow('the effect failed');
    expect(await deliveriesOf(job)).toEqual([]);
    expect(await queued()).toBe(before);

    await transitionJob(services, { jobId: job, to: 'RUNNING', actor: 'test' });
    await transitionJob(services, { jobId: job, to: 'AWAITING_REVIEW', actor: 'test', patch: { output: { summary: 'x' } } });
    expect(await deliveriesOf(job)).toEqual([
      { endpointId: on, eventType: 'JOB_STATE_CHANGED', queued: 1 },
      { endpointId: on, eventType: 'JOB_STATE_CHANGED', queued: 1 },
      { endpointId: on, eventType: 'REVIEW_REQUESTED', queued: 1 },
    ]);
    for (const id of [on, off]) await t.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id });
  });
});
