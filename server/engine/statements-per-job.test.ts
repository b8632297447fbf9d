// Statements per job: one simple job (one agent, one task, offline provider, inline executor) from
// createJob to SUCCEEDED sends at most MAX_STATEMENTS statements and MAX_TRANSACTIONS transactions
// of the project's own, so a later change cannot silently add round trips to every job. Not
// counted: graphile-worker's own queue statements (fetching and completing queue entries, whose
// count depends on timing) and this test's polling. The lease is long so that no heartbeat or
// sweep falls into the window. The measured job's createJob finds its template known from the
// warm-up's (server/intake/create-job.ts): one statement.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isTransactionControl, isTransactionStart, recordStatements } from '../test/count-statements.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { minimalTemplate } from '../test/minimal-template.ts';

const MAX_STATEMENTS = 7;
const MAX_TRANSACTIONS = 3;
// Each statement, no transaction control: a transaction's BEGIN goes with its first statement, and
// the claim's, the usage charge's and the attempt's end's COMMIT with their last (server/db/pipelined-statement.ts).
const MAX_ROUND_TRIPS = MAX_STATEMENTS;

const TEMPLATE = minimalTemplate('statements-minimal', 'Minimal');

const POLL = `SELECT state AS "statementTestPoll" FROM "Job" WHERE id = $1`;
const NOT_OURS = /"graphile_worker"\._private_jobs|statementTestPoll/;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({
    role: 'all',
    env: { AUTODEV_EXECUTOR: 'inline', AUTODEV_WORKER_CONCURRENCY: '1', AUTODEV_ATTEMPT_LEASE_MS: '600000' },
  });
  const r = await t.gql(`mutation($input: TemplateInput!) { upsertTemplate(input: $input) { slug } }`, { input: TEMPLATE });
  expect(r.errors).toBeUndefined();
}, 120_000);
afterAll(async () => {
  await t?.close();
});

async function runOneJob(n: number): Promise<string> {
  const r = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
    input: { templateSlug: TEMPLATE.slug, input: { n } },
  });
  expect(r.errors).toBeUndefined();
  const id = r.data.createJob.id as string;
  for (const started = Date.now(); Date.now() - started < 60_000; await new Promise((res) => setTimeout(res, 10))) {
    const { rows } = await t.app.services.pool.query<{ statementTestPoll: string }>(POLL, [id]);
    if (['SUCCEEDED', 'FAILED', 'CANCELLED', 'BUDGET_EXCEEDED', 'REJECTED'].includes(rows[0].statementTestPoll)) {
      expect(rows[0].statementTestPoll).toBe('SUCCEEDED');
      return id;
    }
  }
  throw new Error(`job ${id} did not finish`);
}

it(`one simple job sends at most ${MAX_STATEMENTS} statements in ${MAX_TRANSACTIONS} transactions, in ${MAX_ROUND_TRIPS} round trips`, async () => {
  await runOneJob(0); // warm-up: caches, the first connection's set-up
  const log = recordStatements();
  try {
    await runOneJob(1);
  } finally {
    log.stop();
  }
  const ours = log.texts.filter((text) => !NOT_OURS.test(text));
  const statements = ours.filter((text) => !isTransactionControl(text));
  const transactions = ours.filter(isTransactionStart).length;
  const roundTrips = log.roundTrips((text) => !NOT_OURS.test(text));
  console.log(
    `one job: ${statements.length} statements, ${transactions} transactions, ${roundTrips} round trips\n${statements.map((s) => s.slice(0, 100)).join('\n')}`,
  );
  expect(statements.length).toBeLessThanOrEqual(MAX_STATEMENTS);
  expect(transactions).toBeLessThanOrEqual(MAX_TRANSACTIONS);
  expect(roundTrips).toBeLessThanOrEqual(MAX_ROUND_TRIPS);
}, 120_000);
