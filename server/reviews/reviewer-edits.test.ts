// approveReview with an edited output: checked against the template's output guardrails (schema,
// size, no secrets), refused with the violations otherwise, and recorded as the reviewer's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driveJob } from '../test/drive-job.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ env: { AUTODEV_VALIDATION_TIMEOUT_MS: '30000' } });
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const CREW_OUTPUT = {
  severity: 'high',
  category: 'checkout',
  summary: 'Crash on an empty cart.',
  likelyCause: 'total() of undefined',
  reproductionSteps: ['Empty the cart', 'Pay'],
  suggestedOwner: 'payments',
  labels: ['bug'],
};
const APPROVE = `mutation($id: ID!, $output: JSON, $comment: String) { approveReview(id: $id, output: $output, comment: $comment) { status output editedOutput decidedBy job { state output } } }`;

async function pendingReview(): Promise<{ jobId: string; reviewId: string }> {
  const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } });
  const jobId = res.data.createJob.id as string;
  await driveJob(t.app.services, jobId, 'AWAITING_REVIEW', CREW_OUTPUT);
  const review = await t.gql(`query($id: ID!) { job(id: $id) { review { id } } }`, { id: jobId });
  return { jobId, reviewId: review.data.job.review.id };
}

describe('reviewer edits', () => {
  it('an edited output that passes the guardrails becomes the job output, recorded as the reviewer’s', async () => {
    const { jobId, reviewId } = await pendingReview();
    const edited = { ...CREW_OUTPUT, severity: 'critical', labels: ['bug', 'revenue'] };
    const reviewer = await t.token('REVIEWER');
    const res = await t.gql(APPROVE, { id: reviewId, output: edited, comment: 'Raised the severity' }, reviewer);
    expect(res.errors).toBeUndefined();
    expect(res.data.approveReview).toMatchObject({
      status: 'APPROVED',
      output: CREW_OUTPUT,
      editedOutput: edited,
      decidedBy: 'reviewer-default',
      job: { state: 'SUCCEEDED', output: edited },
    });
    const events = await t.gql(`query($id: ID!) { job(id: $id) { events(last: 1) { edges { node { type message data } } } } }`, {
      id: jobId,
    });
    expect(events.errors).toBeUndefined();
    const approved = events.data.job.events.edges[0].node;
    expect(approved.message).toBe('Approved with an edited output: Raised the severity');
    expect(approved.data).toMatchObject({ decision: 'APPROVE', edited: true });
  });

  it('an edited output that breaks the schema or carries a secret is refused with the violations; nothing changes', async () => {
    const { jobId, reviewId } = await pendingReview();
    const before = await t.gql(`query($id: ID!) { job(id: $id) { state output version: updatedAt review { status } } }`, { id: jobId });
    const broken = await t.gql(APPROVE, { id: reviewId, output: { ...CREW_OUTPUT, severity: 'catastrophic', summary: undefined } });
    expect(broken.errors![0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'output',
      violations: [{ name: 'output-schema' }],
    });
    expect(broken.errors![0].message).toMatch(
      /^The edited output is refused: The output does not match the template’s output schema: .*summary/,
    );
    const secret = await t.gql(APPROVE, { id: reviewId, output: { ...CREW_OUTPUT, summary: 'use AKIAABCDEFGHIJKLMNOP' } });
    expect(secret.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', violations: [{ name: 'no-secrets' }] });
    expect(secret.errors![0].message).not.toContain('AKIAABCDEFGHIJKLMNOP');
    const after = await t.gql(`query($id: ID!) { job(id: $id) { state output version: updatedAt review { status } } }`, { id: jobId });
    expect(after.data).toEqual(before.data);
    // An edit only goes with approval.
    const reject = await t.gql(`mutation($id: ID!) { requestChanges(id: $id, feedback: "x") { status } }`, { id: reviewId });
    expect(reject.errors).toBeUndefined();
  });
});
