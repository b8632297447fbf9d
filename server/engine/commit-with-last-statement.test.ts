// A claim (startAttempt) and an attempt's end (finishAttempt) send their COMMIT with their last
// statement, the job's transition, when what the claim read says nothing follows it: no webhook
// endpoint (and, for the end, no running-attempts limit). The statement checks again and refuses to
// be the last when something must follow it after all (an endpoint enabled since the read, a slot
// to give): nothing is written, and the transaction runs again with its COMMIT after the statement.
// API only (no worker): the claims and ends here are this file's own.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAttempt } from './start-attempt.ts';
import { finishAttempt } from './finish-attempt.ts';
import { recordStatements } from '../test/count-statements.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { DELIVER_WEBHOOK_TASK } from '../webhooks/queue-delivery.ts';

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
  return res.data.createJob.id as string;
}

const claim = (jobId: string) =>
  startAttempt(t.app.services, { jobId, workerId: 'claim-commit-test', executor: 'inline', defaultMaxRunning: null });

/** The claim's JOB_STATE_CHANGED deliveries (QUEUED → RUNNING) and whether each has its queue entry. */
const runningDeliveries = async (jobId: string) =>
  (
    await t.app.services.pool.query<{ endpointId: string; queued: number }>(
      `SELECT d."endpointId", (SELECT count(*)::int FROM graphile_worker._private_jobs q JOIN graphile_worker._private_tasks k ON k.id = q.task_id
                                 WHERE k.identifier = $2 AND q.payload->>'deliveryId' = d.id::text) AS queued
         FROM "WebhookDelivery" d
        WHERE d.body::jsonb->'data'->>'jobId' = $1 AND d.body::jsonb->'data'->>'toState' = 'RUNNING'`,
      [jobId, DELIVER_WEBHOOK_TASK],
    )
  ).rows;

const createEndpoint = async () => {
  const res = await t.gql(`mutation($input: WebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }`, {
    input: { url: 'https://hooks.example.com/claims', eventTypes: ['JOB_STATE_CHANGED'] },
  });
  expect(res.errors).toBeUndefined();
  return res.data.createWebhookEndpoint.endpoint.id as string;
};

it('a claim in a project without webhook endpoints: its read and its transition with COMMIT, two round trips, committed', async () => {
  const jobId = await newJob();
  const log = recordStatements();
  let attempt;
  try {
    attempt = await claim(jobId);
  } finally {
    log.stop();
  }
  expect(attempt?.number).toBe(1);
  expect(log.texts.filter((s) => /^(BEGIN|COMMIT|ROLLBACK)$/.test(s))).toEqual(['BEGIN', 'COMMIT']);
  expect(log.roundTrips()).toBe(2);
  const { rows } = await t.app.services.pool.query(`SELECT state, "attemptCount" FROM "Job" WHERE id = $1`, [jobId]);
  expect(rows[0]).toEqual({ state: 'RUNNING', attemptCount: 1 });
});

const setEnabled = async (id: string, enabled: boolean) => {
  const res = await t.gql(
    `mutation($id: ID!, $enabled: Boolean!) { updateWebhookEndpoint(id: $id, input: { enabled: $enabled }) { id } }`,
    {
      id,
      enabled,
    },
  );
  expect(res.errors).toBeUndefined();
};

it("an endpoint enabled between the claim's read and its transition: the claim runs again and its delivery commits with it", async () => {
  // Creating an endpoint takes the project's lock, which the claim holds from its read on; enabling
  // one does not. Just before the claim's transition statement goes out, another connection
  // enables the endpoint and commits: the claim's read did not see it, the transition's statement does.
  const endpointId = await createEndpoint();
  await setEnabled(endpointId, false);
  const jobId = await newJob();
  // Recorded from before the interposition below, which then puts back the recording query.
  const raced = recordStatements();
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  let enabled = false;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const q = args[0] as string | { text?: string };
    const text = typeof q === 'string' ? q : (q?.text ?? '');
    if (!enabled && text.includes('INSERT INTO "JobAttempt"')) {
      proto.query = original;
      return setEnabled(endpointId, true).then(() => {
        enabled = true;
        return original.apply(this, args);
      });
    }
    return original.apply(this, args);
  };
  try {
    expect((await claim(jobId))?.number).toBe(1);
  } finally {
    proto.query = original;
    raced.stop();
  }
  expect(enabled).toBe(true);
  // The first transaction refused its statement and rolled back; the second committed after the deliveries.
  expect(raced.texts.filter((s) => /^(BEGIN|COMMIT|ROLLBACK)$/.test(s))).toEqual(['BEGIN', 'ROLLBACK', 'BEGIN', 'COMMIT']);
  const { rows } = await t.app.services.pool.query(`SELECT count(*)::int AS n FROM "JobAttempt" WHERE "jobId" = $1`, [jobId]);
  expect(rows[0].n).toBe(1);
  expect(await runningDeliveries(jobId)).toEqual([{ endpointId, queued: 1 }]);

  // Now the read sees the endpoint: the deliveries go in the claim's transaction, with its COMMIT after them.
  const next = await newJob();
  const log = recordStatements();
  try {
    expect((await claim(next))?.number).toBe(1);
  } finally {
    log.stop();
  }
  expect(log.texts.filter((s) => /^(BEGIN|COMMIT|ROLLBACK)$/.test(s))).toEqual(['BEGIN', 'COMMIT']);
  expect(log.texts.indexOf('COMMIT')).toBeGreaterThan(log.texts.findIndex((s) => s.includes('INSERT INTO "WebhookDelivery"')));
  expect(await runningDeliveries(next)).toEqual([{ endpointId, queued: 1 }]);
  await t.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id: endpointId });
});

it("an attempt's end: its COMMIT with its transition; a limit set since the claim makes it run again and give the slot", async () => {
  const pool = t.app.services.pool;
  const opts = { retryBaseMs: 1000, defaultMaxRunning: null };
  // Without a limit: the end is one round trip (BEGIN, the transition, COMMIT).
  const plain = await claim(await newJob());
  expect(plain?.endsLast).toBe(true);
  const log = recordStatements();
  try {
    expect(await finishAttempt(t.app.services, plain!, { kind: 'budget_exceeded', message: 'spent' }, opts)).toBe('BUDGET_EXCEEDED');
  } finally {
    log.stop();
  }
  expect(log.roundTrips()).toBe(1);

  // A limit set, and a job parked waiting for a slot, after the claim: the end must give the slot.
  const attempt = await claim(await newJob());
  expect(attempt?.endsLast).toBe(true);
  const waiting = await newJob();
  await pool.query(`UPDATE "Project" SET "maxRunningAttempts" = 10 WHERE id = $1`, [attempt!.projectId]);
  await pool.query(`UPDATE "Job" SET "slotWaitSince" = now() WHERE id = $1`, [waiting]);
  const queueEntries = async () =>
    (await pool.query(`SELECT count(*)::int AS n FROM graphile_worker._private_jobs WHERE payload->>'jobId' = $1`, [waiting])).rows[0]
      .n as number;
  const entriesBefore = await queueEntries();
  const again = recordStatements();
  try {
    expect(await finishAttempt(t.app.services, attempt!, { kind: 'budget_exceeded', message: 'spent' }, opts)).toBe('BUDGET_EXCEEDED');
  } finally {
    again.stop();
  }
  expect(again.texts.filter((s) => /^(BEGIN|COMMIT|ROLLBACK)$/.test(s))).toEqual(['BEGIN', 'ROLLBACK', 'BEGIN', 'COMMIT']);
  const { rows } = await pool.query(`SELECT "slotWaitSince" FROM "Job" WHERE id = $1`, [waiting]);
  expect(rows[0].slotWaitSince).toBeNull();
  expect(await queueEntries()).toBe(entriesBefore + 1);
  const ended = await pool.query(
    `SELECT j.state, a.state AS attempt FROM "Job" j JOIN "JobAttempt" a ON a."jobId" = j.id WHERE j.id = $1`,
    [attempt!.jobId],
  );
  expect(ended.rows).toEqual([{ state: 'BUDGET_EXCEEDED', attempt: 'BUDGET_EXCEEDED' }]);
  await pool.query(`UPDATE "Project" SET "maxRunningAttempts" = NULL WHERE id = $1`, [attempt!.projectId]);
});
