// Subscribers of one group (same source events, document, variables, project and role) share one
// source stream and one execution per event, and each is still a subscriber of its own: every
// event once and in order, its own slow-subscriber bound, its own leaving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLOW_SUBSCRIBER_CLOSE_CODE } from '../http/websocket-server.ts';
import { appendJobEvents } from '../jobs/job-event.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { bareWsSubscriber } from '../test/bare-ws-subscriber.ts';
import { sseSubscription } from '../test/sse-subscription.ts';
import { publishLogEvents, publishUntilLive } from '../test/publish-log-events.ts';

const BUFFER = 2 * 1024 * 1024;
const QUERY = 'subscription { projectEvents { jobId seq message } }';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ env: { AUTODEV_SUBSCRIBER_BUFFER_BYTES: String(BUFFER) } });
});
afterAll(async () => {
  await t?.close();
});

/** A WebSocket subscriber on a bare socket (it can stop reading): the seqs of `jobId`'s events it got. */
const subscriber = (jobId: string) =>
  bareWsSubscriber(t.url, t.adminToken, { query: QUERY }, (d) => (d.projectEvents.jobId === jobId ? d.projectEvents.seq : undefined));

/** An SSE subscriber of the same document (it reads its group's results from a queue of its own): the seqs of `jobId`'s events it got. */
function sseSubscriber(jobId: string) {
  const { payloads, close } = sseSubscription(t.url, t.adminToken, QUERY);
  return {
    get seqs(): number[] {
      return payloads
        .map((p) => p.data?.projectEvents)
        .filter((e) => e?.jobId === jobId)
        .map((e) => e.seq as number);
    },
    close,
  };
}

const active = async () =>
  (await t.app.services.metrics.subscriptions.get()).values.find((v) => v.labels.field === 'projectEvents')?.value ?? 0;
const executions = async () => (await t.app.services.metrics.subscriptionExecutions.get()).values[0]?.value ?? 0;

async function newJob(): Promise<string> {
  return (await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } })).data.createJob.id;
}

const publish = (jobId: string, n: number, message?: string) => publishLogEvents(t.app.services, jobId, n, message);
const untilLive = (jobId: string, live: () => boolean) => publishUntilLive(t.app.services, jobId, live);

describe('a subscription group', () => {
  it('gives each of its WebSocket and SSE members every event once and in order, executing once per event', async () => {
    const jobId = await newJob();
    const before = await active();
    const members = Array.from({ length: 8 }, () => subscriber(jobId));
    const sse = sseSubscriber(jobId);
    await expect.poll(active, { timeout: 10_000 }).toBe(before + 9);
    const warm = await untilLive(jobId, () => members.every((m) => m.seqs.length > 0) && sse.seqs.length > 0);
    await expect.poll(() => [...members, sse].every((m) => m.seqs.at(-1) === warm), { timeout: 10_000 }).toBe(true);
    const counts = [...members, sse].map((m) => m.seqs.length);
    const executed = await executions();

    const seqs = await publish(jobId, 40);
    await expect.poll(() => [...members, sse].every((m, i) => m.seqs.length === counts[i] + 40), { timeout: 10_000 }).toBe(true);
    for (const m of [...members, sse]) {
      expect(m.seqs.slice(-40)).toEqual(seqs);
      expect(new Set(m.seqs).size).toBe(m.seqs.length); // none twice
      expect(m.seqs).toEqual([...m.seqs].sort((a, b) => a - b));
    }
    // One group: one execution per event for its nine members.
    expect(await executions()).toBe(executed + 40);
    for (const m of members) m.close();
    sse.close();
    await expect.poll(active, { timeout: 10_000 }).toBe(before);
  }, 60_000);

  it('goes on for the others when a member leaves mid-stream, and the one who left gets nothing more', async () => {
    const jobId = await newJob();
    const before = await active();
    const members = Array.from({ length: 4 }, () => subscriber(jobId));
    await expect.poll(active, { timeout: 10_000 }).toBe(before + 4);
    await untilLive(jobId, () => members.every((m) => m.seqs.length > 0));
    const [leaving, ...staying] = members;

    const first = await publish(jobId, 10, 'before');
    await expect.poll(() => members.every((m) => m.seqs.at(-1) === first.at(-1)), { timeout: 10_000 }).toBe(true);
    leaving.leave();
    await expect.poll(active, { timeout: 10_000 }).toBe(before + 3);
    const got = leaving.seqs.length;

    const second = await publish(jobId, 10, 'after');
    await expect.poll(() => staying.every((m) => m.seqs.at(-1) === second.at(-1)), { timeout: 10_000 }).toBe(true);
    for (const m of staying) expect(m.seqs.slice(-20)).toEqual([...first, ...second]);
    expect(leaving.seqs.length).toBe(got);

    // The last member leaving closes the group; a new subscriber gets a new one and every event from then on.
    for (const m of staying) m.leave();
    await expect.poll(active, { timeout: 10_000 }).toBe(before);
    const late = subscriber(jobId);
    await untilLive(jobId, () => late.seqs.length > 0);
    const third = await publish(jobId, 5, 'later');
    await expect.poll(() => late.seqs.at(-1) === third.at(-1), { timeout: 10_000 }).toBe(true);
    expect(late.seqs.slice(-5)).toEqual(third);
    for (const m of [...members, late]) m.close();
  }, 60_000);

  it('cuts off a member that stops reading with 1008 while the others get every event', async () => {
    const jobId = await newJob();
    const slow = subscriber(jobId);
    const readers = Array.from({ length: 3 }, () => subscriber(jobId));
    await untilLive(jobId, () => [slow, ...readers].every((m) => m.seqs.length > 0));
    slow.stopReading();
    const counts = readers.map((m) => m.seqs.length);
    const slowClosed = async () => (await t.app.services.metrics.slowSubscribersClosed.get()).values[0]?.value ?? 0;
    const closedBefore = await slowClosed();

    // 1,200 events of 32 KiB (37.5 MiB): past what loopback's kernel buffers absorb, then past the bound.
    const published: number[] = [];
    let resumed = false;
    for (let i = 0; i < 1200; i += 40) {
      // The readers keep up; the stalled one falls behind.
      while (readers.some((m, k) => m.seqs.length - counts[k] < published.length - 80)) await new Promise((r) => setTimeout(r, 5));
      const { pool, events } = t.app.services;
      const batch = Array.from({ length: 40 }, (_, k) => ({
        type: 'LOG' as const,
        message: `${i + k} ${'x'.repeat(32 * 1024)}`,
        actor: 'test',
      }));
      const appended = await appendJobEvents(pool, jobId, batch);
      await events.publish(appended);
      published.push(...appended.map((e) => e.seq));
      // Once cut off, it reads again (and so sees the close frame), as a client that paused briefly would.
      if (!resumed && (await slowClosed()) > closedBefore) {
        resumed = true;
        slow.resumeReading();
      }
    }
    await expect.poll(() => readers.every((m, k) => m.seqs.length === counts[k] + published.length), { timeout: 30_000 }).toBe(true);
    for (const m of readers) expect(m.seqs.slice(-published.length)).toEqual(published);
    expect(await slowClosed()).toBe(closedBefore + 1);
    if (!resumed) slow.resumeReading();
    const { code, reason } = await slow.closed;
    expect(code).toBe(SLOW_SUBSCRIBER_CLOSE_CODE);
    expect(reason).toMatch(/too slow/);
    expect(slow.seqs.length).toBeLessThan(published.length);
    for (const m of readers) m.close();
  }, 90_000);
});
