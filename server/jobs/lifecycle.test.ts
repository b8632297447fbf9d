import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startTestServer, type TestServer } from '../test/harness.ts';
import { jobWithLists } from '../test/job-lists.ts';
import { driveJob } from '../test/drive-job.ts';
import { CREATE_JOB, JOB_EVENTS, TRIAGE_INPUT } from '../test/fixtures.ts';
import { JOB_STATES, type JobState } from './state-machine.ts';
import { transitionJob } from './transition-job.ts';

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

async function snapshot(jobId: string) {
  const res = await t.gql(`query($id: ID!) { job(id: $id) { state events { edges { node { seq type fromState toState } } } } }`, {
    id: jobId,
  });
  return jobWithLists(res.data.job);
}

// The lifecycle as ARCHITECTURE.md draws it, written out here rather than read from the table
// under test (state-machine.ts), so a change to that table shows up as a failing test.
const LIFECYCLE: Record<JobState, JobState[]> = {
  QUEUED: ['RUNNING', 'CANCELLED'],
  RUNNING: ['AWAITING_REVIEW', 'AWAITING_INPUT', 'SUCCEEDED', 'QUEUED', 'FAILED', 'BUDGET_EXCEEDED', 'CANCELLED'],
  AWAITING_REVIEW: ['SUCCEEDED', 'REJECTED', 'QUEUED', 'CANCELLED'],
  AWAITING_INPUT: ['QUEUED', 'FAILED', 'CANCELLED'],
  SUCCEEDED: [],
  FAILED: [],
  REJECTED: [],
  CANCELLED: [],
  BUDGET_EXCEEDED: [],
};

describe('job lifecycle over GraphQL and graphql-ws', () => {
  it('a subscriber sees every transition the domain makes, in seq order, and afterSeq replays exactly what it missed', async () => {
    const jobId = await newJob();
    const ws = t.ws();
    const first = collect(ws, JOB_EVENTS, { jobId, afterSeq: 0 }, (items) => items.length >= 4);
    // The replayed creation event proves the subscription is live before the domain moves on.
    await expect.poll(() => first.items.length).toBeGreaterThanOrEqual(1);
    await driveJob(t.app.services, jobId, 'AWAITING_REVIEW');
    const review = await t.gql(`query($id: ID!) { job(id: $id) { review { id } } }`, { id: jobId });
    await t.gql(`mutation($id: ID!) { approveReview(id: $id, comment: "LGTM") { status } }`, { id: review.data.job.review.id });
    const seen = (await first.done).map((d: any) => d.jobEvents);
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(seen.map((e) => [e.fromState, e.toState])).toEqual([
      [null, 'QUEUED'],
      ['QUEUED', 'RUNNING'],
      ['RUNNING', 'AWAITING_REVIEW'],
      ['AWAITING_REVIEW', 'SUCCEEDED'],
    ]);
    expect(seen[3].message).toBe('Approved: LGTM');

    // A client that saw up to seq 2 reconnects: it gets 3 and 4, nothing else. The job is terminal,
    // so the server completes the stream after the replay: collecting until completion (never
    // unsubscribing early) sees everything the server would ever send.
    const again = collect(t.ws(), JOB_EVENTS, { jobId, afterSeq: 2 }, () => false);
    expect((await again.done).map((d: any) => d.jobEvents.seq)).toEqual([3, 4]);
    expect(again.errors).toEqual([]);
  });

  it('events committed while a subscriber replays are delivered once, in order, without gaps', async () => {
    const jobId = await newJob();
    await driveJob(t.app.services, jobId, 'RUNNING');
    // 300 log events race the subscriber's replay.
    const writes = (async () => {
      for (let i = 0; i < 300; i++) {
        const { appendJobEvent } = await import('./job-event.ts');
        const e = await appendJobEvent(t.app.services.pool, jobId, { type: 'LOG', message: `line ${i}`, actor: 'runner' });
        await t.app.services.events.publish([e]);
      }
    })();
    const sub = collect(t.ws(), JOB_EVENTS, { jobId, afterSeq: 0 }, (items) => items.length >= 302, 30_000);
    await writes;
    const seqs = (await sub.done).map((d: any) => d.jobEvents.seq);
    expect(seqs).toEqual(Array.from({ length: 302 }, (_, i) => i + 1));
  });

  it('concurrent writers on one job (worker appends, API transitions) never make a live subscriber miss an event', async () => {
    const jobId = await newJob();
    await driveJob(t.app.services, jobId, 'RUNNING');
    const { appendJobEvent } = await import('./job-event.ts');
    const sub = collect(t.ws(), JOB_EVENTS, { jobId, afterSeq: 0 }, (items) => items.length >= 2 + 200 + 1, 30_000);
    await expect.poll(() => sub.items.length).toBeGreaterThanOrEqual(2);
    const writes = Array.from({ length: 200 }, (_, i) => async () => {
      const e = await appendJobEvent(t.app.services.pool, jobId, { type: 'LOG', message: `concurrent ${i}`, actor: 'runner' });
      await t.app.services.events.publish([e]);
    });
    // Ten writers at a time, and a cancellation from the API racing them.
    const cancel = new Promise((r) => setTimeout(r, 20)).then(() =>
      t.gql(`mutation($id: ID!) { cancelJob(id: $id) { state } }`, { id: jobId }),
    );
    for (let i = 0; i < writes.length; i += 10) await Promise.all(writes.slice(i, i + 10).map((w) => w()));
    await cancel;
    // The stream completes with the terminal event: everything up to it, in order, without a gap
    // (logs the writers appended after the cancellation are in Job.events, not in the stream).
    const items = await sub.done;
    const seqs = items.map((d: any) => d.jobEvents.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(items.at(-1).jobEvents.toState).toBe('CANCELLED');
    const { rows } = await t.app.services.pool.query(`SELECT seq FROM "JobEvent" WHERE "jobId" = $1 AND "toState" = 'CANCELLED'`, [jobId]);
    expect(seqs.length).toBe(rows[0].seq);
  });

  it('the same stream is available over SSE', async () => {
    const jobId = await newJob();
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${t.adminToken}` },
      body: JSON.stringify({ query: JOB_EVENTS, variables: { jobId, afterSeq: 0 } }),
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('"toState":"QUEUED"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    expect(text).toContain('"seq":1');
  });

  it('has exactly the nine states of the lifecycle', () => {
    expect([...JOB_STATES].sort()).toEqual(Object.keys(LIFECYCLE).sort());
  });

  it('makes every legal transition', async () => {
    const made: string[] = [];
    for (const [from, targets] of Object.entries(LIFECYCLE) as [JobState, JobState[]][]) {
      for (const to of targets) {
        const jobId = await newJob();
        await driveJob(t.app.services, jobId, from);
        await transitionJob(t.app.services, { jobId, from, to, actor: 'test' });
        const after = await snapshot(jobId);
        expect(after.state, `${from} → ${to}`).toBe(to);
        expect(after.events.at(-1), `${from} → ${to}`).toMatchObject({ type: 'STATE_CHANGED', fromState: from, toState: to });
        made.push(`${from}→${to}`);
      }
    }
    expect(made).toHaveLength(16);
  });

  it('refuses every illegal transition with INVALID_TRANSITION and changes nothing', async () => {
    const refusals: string[] = [];
    const states = Object.keys(LIFECYCLE) as JobState[];
    for (const from of states) {
      const illegal = states.filter((to) => !LIFECYCLE[from].includes(to));
      const jobId = await newJob();
      await driveJob(t.app.services, jobId, from);
      const before = await snapshot(jobId);
      for (const to of illegal) {
        const err = await transitionJob(t.app.services, { jobId, to, actor: 'test' }).then(
          () => null,
          (e: unknown) => e as { code?: string },
        );
        expect(err?.code, `${from} → ${to}`).toBe('INVALID_TRANSITION');
        refusals.push(`${from}→${to}`);
      }
      expect(await snapshot(jobId)).toEqual(before);
    }
    // 9 states × 9 targets minus the 16 legal moves.
    expect(refusals.length).toBe(81 - 16);
  });

  it('refuses illegal moves requested through the API with INVALID_TRANSITION', async () => {
    const done = await newJob();
    await driveJob(t.app.services, done, 'SUCCEEDED');
    const before = await snapshot(done);
    const res = await t.gql(`mutation($id: ID!) { cancelJob(id: $id) { state } }`, { id: done });
    expect(res.errors?.[0].extensions?.code).toBe('INVALID_TRANSITION');
    expect(res.errors?.[0].message).toMatch(/already SUCCEEDED/);
    expect(await snapshot(done)).toEqual(before);
  });

  it('of two concurrent transitions from the same state exactly one wins; the other is a CONFLICT', async () => {
    for (let i = 0; i < 10; i++) {
      const jobId = await newJob();
      await driveJob(t.app.services, jobId, 'RUNNING');
      const targets: JobState[] = ['SUCCEEDED', 'FAILED'];
      const results = await Promise.allSettled(
        targets.map((to) => transitionJob(t.app.services, { jobId, to, actor: 'worker', from: 'RUNNING' })),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0].reason.code).toBe('CONFLICT');
      const snap = await snapshot(jobId);
      expect(snap.events).toHaveLength(3);
      expect(snap.state).toBe(snap.events[2].toState);
    }
  });

  it('approve vs reject of one review by two reviewers: one decision wins, the other is a CONFLICT', async () => {
    const jobId = await newJob();
    await driveJob(t.app.services, jobId, 'AWAITING_REVIEW');
    const reviewId = (await t.gql(`query($id: ID!) { job(id: $id) { review { id } } }`, { id: jobId })).data.job.review.id;
    const [a, b] = await Promise.all([
      t.gql(`mutation($id: ID!) { approveReview(id: $id) { status } }`, { id: reviewId }),
      t.gql(`mutation($id: ID!) { rejectReview(id: $id, comment: "no") { status } }`, { id: reviewId }),
    ]);
    const outcomes = [a, b].map((r) => r.errors?.[0].extensions?.code ?? r.data.approveReview?.status ?? r.data.rejectReview?.status);
    expect(outcomes.filter((o) => o === 'CONFLICT')).toHaveLength(1);
    const snap = await snapshot(jobId);
    expect(['SUCCEEDED', 'REJECTED']).toContain(snap.state);
    expect(snap.events).toHaveLength(4);
  });

  it('request changes sends the job back to QUEUED with the feedback stored for the next attempt', async () => {
    const jobId = await newJob();
    await driveJob(t.app.services, jobId, 'AWAITING_REVIEW');
    const reviewId = (await t.gql(`query($id: ID!) { job(id: $id) { review { id } } }`, { id: jobId })).data.job.review.id;
    const missing = await t.gql(`mutation($id: ID!) { requestChanges(id: $id, feedback: "  ") { status } }`, { id: reviewId });
    expect(missing.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const res = await t.gql(
      `mutation($id: ID!) { requestChanges(id: $id, feedback: "Handle the empty-cart case too") { status feedback decidedBy decidedAt job { state feedback } } }`,
      { id: reviewId },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.requestChanges).toMatchObject({
      status: 'CHANGES_REQUESTED',
      feedback: 'Handle the empty-cart case too',
      decidedBy: 'bootstrap admin',
      job: { state: 'QUEUED', feedback: 'Handle the empty-cart case too' },
    });
    expect(res.data.requestChanges.decidedAt).toBeTruthy();
    const again = await t.gql(`mutation($id: ID!) { approveReview(id: $id) { status } }`, { id: reviewId });
    expect(again.errors?.[0].extensions?.code).toBe('CONFLICT');
  });
});
