// Webhook deliveries end to end: jobs run by a real graphile-worker worker (the scripted runner as
// a child process), their events delivered by the worker's deliverWebhook task to a real HTTP
// receiver on 127.0.0.1 that verifies every request with the standardwebhooks library.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { addScriptedTemplates, createScriptedJob, SCRIPTED_RUNNER_COMMAND, waitForJob } from '../test/scripted.ts';

const TIMEOUT_MS = 10_000;
const RETRY_BASE_MS = 100;

interface Arrival {
  path: string;
  at: number;
  body: string;
  headers: { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string };
}
const arrivals: Arrival[] = [];
const flakyAnswers = [500, 500, 500];
let receiver: http.Server;
let base: string;
const sockets = new Set<Socket>();

let t: TestServer;
beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const h = req.headers;
      arrivals.push({
        path: req.url ?? '',
        at: performance.now(),
        body: Buffer.concat(chunks).toString('utf8'),
        headers: {
          'webhook-id': String(h['webhook-id']),
          'webhook-timestamp': String(h['webhook-timestamp']),
          'webhook-signature': String(h['webhook-signature']),
        },
      });
      if (req.url === '/silent') return; // never answers
      if (req.url === '/flaky') return void res.writeHead(flakyAnswers.shift() ?? 200).end('flaky');
      res.writeHead(204).end();
    });
  });
  receiver.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  base = `http://localhost:${(receiver.address() as AddressInfo).port}`;
  t = await startTestServer({
    role: 'all',
    env: {
      AUTODEV_RUNNER_COMMAND: SCRIPTED_RUNNER_COMMAND,
      AUTODEV_WORKER_CONCURRENCY: '2',
      AUTODEV_WEBHOOK_ALLOW_PRIVATE: 'true',
      AUTODEV_WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      AUTODEV_WEBHOOK_RETRY_BASE_MS: String(RETRY_BASE_MS),
      AUTODEV_WEBHOOK_MAX_ATTEMPTS: '5',
    },
  });
  await addScriptedTemplates(t);
}, 180_000);
afterAll(async () => {
  for (const s of sockets) s.destroy(); // a delivery still waiting on /silent ends now
  await t?.close();
  await new Promise((r) => receiver?.close(r));
});

const LOG = /* GraphQL */ `
  query {
    webhookEndpoints {
      id
      url
      deliveries(first: 50) {
        edges {
          node {
            id
            webhookId
            eventType
            payload
            status
            attempts
            responseStatus
            durationMs
            lastError
            lastAttemptAt
            nextRetryAt
            createdAt
          }
        }
      }
    }
  }
`;
interface Delivery {
  id: string;
  webhookId: string;
  eventType: string;
  payload: string;
  status: string;
  attempts: number;
  responseStatus: number | null;
  durationMs: number | null;
  lastError: string | null;
  nextRetryAt: string | null;
}
async function deliveries(endpointId: string): Promise<Delivery[]> {
  const res = await t.gql(LOG);
  expect(res.errors).toBeUndefined();
  return res.data.webhookEndpoints.find((e: { id: string }) => e.id === endpointId).deliveries.edges.map((e: { node: Delivery }) => e.node);
}
/** Polls the endpoint's delivery log until `done` holds for it. */
async function waitForLog(endpointId: string, done: (log: Delivery[]) => boolean, what: string, timeoutMs = 60_000): Promise<Delivery[]> {
  const started = Date.now();
  for (;;) {
    const log = await deliveries(endpointId);
    if (done(log)) return log;
    if (Date.now() - started > timeoutMs)
      throw new Error(`${what}: not within ${timeoutMs} ms; log: ${JSON.stringify(log).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
async function createEndpoint(path: string, eventTypes: string[]): Promise<{ id: string; secret: string }> {
  const res = await t.gql(`mutation($input: WebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret endpoint { id } } }`, {
    input: { url: base + path, eventTypes },
  });
  expect(res.errors).toBeUndefined();
  return { id: res.data.createWebhookEndpoint.endpoint.id, secret: res.data.createWebhookEndpoint.secret };
}
const deleteEndpoint = (id: string) => t.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id });
const REDELIVER = `mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id webhookId status } }`;

describe('webhook deliveries', () => {
  it("every delivery of a job's life verifies with standardwebhooks' Webhook.verify; a tampered body does not", async () => {
    const { id: endpoint, secret } = await createEndpoint('/ok', ['JOB_STATE_CHANGED', 'REVIEW_REQUESTED']);
    const jobId = await createScriptedJob(t, 'ok', {}, 'scripted-review');
    await waitForJob(t, jobId, ['AWAITING_REVIEW']);
    // QUEUED → RUNNING and RUNNING → AWAITING_REVIEW as state changes, and the review requested.
    const log = await waitForLog(endpoint, (l) => l.length === 3 && l.every((d) => d.status === 'SUCCEEDED'), 'three deliveries succeeded');
    expect(log.map((d) => d.eventType).sort()).toEqual(['JOB_STATE_CHANGED', 'JOB_STATE_CHANGED', 'REVIEW_REQUESTED']);
    for (const d of log) expect(d).toMatchObject({ attempts: 1, responseStatus: 204, lastError: null, nextRetryAt: null });

    const got = arrivals.filter((a) => a.path === '/ok');
    expect(got).toHaveLength(3);
    const verified = got.map(
      (a) => new Webhook(secret).verify(a.body, a.headers) as { type: string; timestamp: string; data: Record<string, unknown> },
    );
    expect(verified.map((p) => `${p.type} ${String(p.data.toState)}`).sort()).toEqual([
      'job.state_changed AWAITING_REVIEW',
      'job.state_changed RUNNING',
      'review.requested AWAITING_REVIEW',
    ]);
    for (const p of verified) expect(p.data).toMatchObject({ jobId, projectId: expect.any(String) });
    // What was sent is what the log shows, under the webhook-id it shows.
    expect(got.map((a) => `${a.headers['webhook-id']} ${a.body}`).sort()).toEqual(log.map((d) => `${d.webhookId} ${d.payload}`).sort());

    const sample = got[0];
    expect(() =>
      new Webhook(secret).verify(
        sample.body.replace(
          jobId,
          jobId.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')),
        ),
        sample.headers,
      ),
    ).toThrow(/signature/i);
    await deleteEndpoint(endpoint);
  }, 120_000);

  it('a receiver answering 500 three times then 200 gets the same webhook-id each time, retries back off, and the log shows 4 attempts', async () => {
    const { id: endpoint, secret } = await createEndpoint('/flaky', ['REVIEW_REQUESTED']);
    const jobId = await createScriptedJob(t, 'ok', {}, 'scripted-review');
    await waitForJob(t, jobId, ['AWAITING_REVIEW']);
    const [d] = await waitForLog(endpoint, (l) => l.length === 1 && l[0].status === 'SUCCEEDED', 'the flaky delivery succeeded');
    expect(d).toMatchObject({ eventType: 'REVIEW_REQUESTED', attempts: 4, responseStatus: 200, lastError: null, nextRetryAt: null });
    expect(d.durationMs).toEqual(expect.any(Number));

    const got = arrivals.filter((a) => a.path === '/flaky');
    expect(got).toHaveLength(4);
    expect(new Set(got.map((a) => a.headers['webhook-id']))).toEqual(new Set([d.webhookId]));
    for (const a of got) expect(new Webhook(secret).verify(a.body, a.headers)).toMatchObject({ type: 'review.requested', data: { jobId } });
    // Each retry waits at least twice as long as the one before (100, 200, 400 ms); more on a loaded machine.
    const gaps = got.slice(1).map((a, i) => Math.round(a.at - got[i].at));
    console.log(`gaps between the flaky receiver's 4 attempts (ms): ${gaps.join(', ')}`);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(RETRY_BASE_MS * 2 ** i - 5));

    // Redelivery: one more attempt, same webhook-id and body.
    const again = await t.gql(REDELIVER, { id: d.id });
    expect(again.errors).toBeUndefined();
    expect(again.data.redeliverWebhook).toMatchObject({ id: d.id, webhookId: d.webhookId, status: 'PENDING' });
    await waitForLog(endpoint, (l) => l[0].attempts === 5 && l[0].status === 'SUCCEEDED', 'the redelivery succeeded');
    const fifth = arrivals.filter((a) => a.path === '/flaky')[4];
    expect(fifth.headers['webhook-id']).toBe(d.webhookId);
    expect(fifth.body).toBe(got[0].body);
    expect(new Webhook(secret).verify(fifth.body, fifth.headers)).toMatchObject({ type: 'review.requested' });

    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-an-id']) {
      expect((await t.gql(REDELIVER, { id })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    await deleteEndpoint(endpoint);
  }, 120_000);

  it('a name resolving to 127.0.0.1 is refused at delivery time unless private destinations are allowed; redelivered once they are', async () => {
    const { id: endpoint } = await createEndpoint('/private', ['REVIEW_REQUESTED']);
    const config = t.app.services.config;
    config.webhookAllowPrivate = false; // what loadConfig gives without AUTODEV_WEBHOOK_ALLOW_PRIVATE
    let d: Delivery;
    try {
      const jobId = await createScriptedJob(t, 'ok', {}, 'scripted-review');
      await waitForJob(t, jobId, ['AWAITING_REVIEW']);
      [d] = await waitForLog(endpoint, (l) => l.length === 1 && l[0].status === 'FAILED', 'the delivery failed');
    } finally {
      config.webhookAllowPrivate = true;
    }
    expect(d).toMatchObject({ attempts: 5, responseStatus: null, nextRetryAt: null });
    expect(d.lastError).toMatch(
      /^localhost resolves to (127\.0\.0\.1|::1), a private, loopback or link-local address; webhooks are not delivered there\.$/,
    );
    expect(arrivals.filter((a) => a.path === '/private')).toHaveLength(0);

    expect((await t.gql(REDELIVER, { id: d.id })).errors).toBeUndefined();
    const [after] = await waitForLog(endpoint, (l) => l[0].status === 'SUCCEEDED', 'the redelivery succeeded');
    expect(after).toMatchObject({ attempts: 6, responseStatus: 204, lastError: null });
    expect(arrivals.filter((a) => a.path === '/private').map((a) => a.headers['webhook-id'])).toEqual([d.webhookId]);
    await deleteEndpoint(endpoint);
  }, 120_000);

  it('a budget threshold crossed by a charge is delivered as budget.threshold with what the job event says', async () => {
    const { id: endpoint, secret } = await createEndpoint('/budget', ['BUDGET_THRESHOLD']);
    expect((await t.gql('mutation { setBudget(input: { limitUsd: 0.05, period: DAILY }) { limitUsd } }')).errors).toBeUndefined();
    const jobId = await createScriptedJob(t, 'usage', { n: 4 }); // 4 charges of $0.01: 80 % of $0.05
    const job = await waitForJob(t, jobId, ['SUCCEEDED']);
    const crossed = job.events.filter((e: { type: string }) => e.type === 'BUDGET_THRESHOLD').map((e: { data: unknown }) => e.data);
    expect(crossed).toEqual([expect.objectContaining({ threshold: 80, limitUsd: 0.05 })]);
    await waitForLog(endpoint, (l) => l.length === 1 && l[0].status === 'SUCCEEDED', 'the threshold delivered');
    const [got] = arrivals.filter((a) => a.path === '/budget');
    expect(new Webhook(secret).verify(got.body, got.headers)).toMatchObject({ type: 'budget.threshold', data: { ...crossed[0], jobId } });
    await deleteEndpoint(endpoint);
    expect((await t.gql('mutation { setBudget(input: { limitUsd: 1000, period: DAILY }) { limitUsd } }')).errors).toBeUndefined();
  }, 120_000);

  it('a receiver that never answers costs one timeout: meanwhile the worker runs other jobs and delivers their events', async () => {
    const silent = await createEndpoint('/silent', ['REVIEW_REQUESTED']);
    const jobId = await createScriptedJob(t, 'ok', {}, 'scripted-review');
    await waitForJob(t, jobId, ['AWAITING_REVIEW']);
    const arrived = async () => {
      while (!arrivals.some((a) => a.path === '/silent')) await new Promise((r) => setTimeout(r, 50));
    };
    await arrived();

    // While that request hangs: another endpoint, another job, run and delivered.
    const ok = await createEndpoint('/busy', ['JOB_STATE_CHANGED']);
    const other = await createScriptedJob(t, 'ok');
    await waitForJob(t, other, ['SUCCEEDED']);
    await waitForLog(ok.id, (l) => l.length === 2 && l.every((d) => d.status === 'SUCCEEDED'), 'the other job’s deliveries');
    const [pending] = await deliveries(silent.id);
    expect(pending).toMatchObject({ status: 'PENDING', attempts: 0 }); // the silent one is still in its first attempt

    const [timedOut] = await waitForLog(silent.id, (l) => l[0].attempts === 1, 'the timeout was recorded', TIMEOUT_MS * 6);
    expect(timedOut).toMatchObject({ status: 'PENDING', responseStatus: null, lastError: `No complete answer within ${TIMEOUT_MS} ms.` });
    expect(timedOut.durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(timedOut.nextRetryAt).not.toBeNull();
    await deleteEndpoint(silent.id);
    await deleteEndpoint(ok.id);
  }, 120_000);
});
