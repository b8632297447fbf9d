// Subscribers that share a document, its variables, a project and a role share one execution of
// their selection per event; each still gets every event, in order, under its own operation id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendJobEvents } from '../jobs/job-event.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';

const SAME = 'subscription { projectEvents { jobId seq } }';
const OTHER = 'subscription { projectEvents { jobId seq message } }';
const SUBSCRIBERS = 12;
const EVENTS = 5;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

const executions = async () => (await t.app.services.metrics.subscriptionExecutions.get()).values[0]?.value ?? 0;

describe('shared execution of subscription selections', () => {
  it('runs once per event for subscribers of the same document, once more for another document, and delivers every event to each', async () => {
    const jobId = (await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } })).data.createJob.id;
    const seen: number[][] = [];
    const subscribe = (query: string) => {
      const mine: number[] = [];
      seen.push(mine);
      t.ws().subscribe(
        { query },
        {
          next: ({ data }: any) => data.projectEvents.jobId === jobId && mine.push(data.projectEvents.seq),
          error: () => {},
          complete: () => {},
        },
      );
    };
    for (let i = 0; i < SUBSCRIBERS; i++) subscribe(SAME);
    subscribe(OTHER);
    // Live once a first event reaches every subscriber.
    const { pool, events } = t.app.services;
    /** Stores and publishes one event; its seq. */
    const publish = async (label: string) => {
      const stored = await appendJobEvents(pool, jobId, [{ type: 'LOG', message: label, actor: 'test' }]);
      await events.publish(stored);
      return stored[0].seq;
    };
    const start = Date.now();
    let lastWarmUp = 0;
    while (!seen.every((s) => s.length > 0)) {
      if (Date.now() - start > 20_000) throw new Error('subscribers never became live');
      lastWarmUp = await publish('warm-up');
      await new Promise((r) => setTimeout(r, 200));
    }
    // Each subscriber was live before the last warm-up event (it got an earlier one, and delivery is
    // in order): once everyone has it, the warm-up's deliveries and executions are all counted.
    await expect.poll(() => seen.every((s) => s.includes(lastWarmUp)), { timeout: 10_000 }).toBe(true);
    const before = await executions();
    const counts = seen.map((s) => s.length);

    for (let i = 0; i < EVENTS; i++) await publish(`event ${i}`);
    await expect.poll(() => seen.every((s, k) => s.length === counts[k] + EVENTS), { timeout: 10_000 }).toBe(true);
    expect(await executions()).toBe(before + EVENTS * 2);
    for (const s of seen) expect(s).toEqual([...s].sort((a, b) => a - b)); // in order, none twice
    expect(new Set(seen.map((s) => JSON.stringify(s.slice(-EVENTS)))).size).toBe(1);
  }, 60_000);
});
