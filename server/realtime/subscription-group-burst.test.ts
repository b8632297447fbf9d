// A subscriber that reads is not cut off: events of several commits that reach the server in one
// turn of the event loop go out to its connection together, and the slow-subscriber bound must
// count what the client has not read, not what this turn is about to write.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendJobEvents, type JobEventRecord } from '../jobs/job-event.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { bareWsSubscriber } from '../test/bare-ws-subscriber.ts';
import { publishUntilLive } from '../test/publish-log-events.ts';

const BUFFER = 1024 * 1024;
const QUERY = 'subscription { projectEvents { jobId seq message } }';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ env: { AUTODEV_SUBSCRIBER_BUFFER_BYTES: String(BUFFER) } });
});
afterAll(async () => {
  await t?.close();
});

const subscriber = (jobId: string) =>
  bareWsSubscriber(t.url, t.adminToken, { query: QUERY }, (d) => (d.projectEvents.jobId === jobId ? d.projectEvents.seq : undefined));

describe('a reading subscriber', () => {
  it('gets every event of commits that arrive in one turn, each commit well within the bound', async () => {
    const jobId = (await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } })).data.createJob.id;
    const reader = subscriber(jobId);
    await publishUntilLive(t.app.services, jobId, () => reader.seqs.length > 0);
    const { pool, events } = t.app.services;
    const slowClosed = async () => (await t.app.services.metrics.slowSubscribersClosed.get()).values[0]?.value ?? 0;
    const closedBefore = await slowClosed();

    // Six commits of 200 KiB each (a fifth of the bound), stored first, then published one per
    // callback of one check phase, as commits on different connections of the pool come in
    // one poll phase. The client reads between turns of the event loop.
    const commits: JobEventRecord[][] = [];
    for (let c = 0; c < 6; c++) {
      const batch = Array.from({ length: 8 }, (_, k) => ({
        type: 'LOG' as const,
        message: `${c}.${k} ${'x'.repeat(25 * 1024)}`,
        actor: 'test',
      }));
      commits.push(await appendJobEvents(pool, jobId, batch));
    }
    await Promise.all(
      commits.map((commit) => new Promise<void>((resolve) => setImmediate(() => void events.publish(commit).then(resolve)))),
    );
    const published = commits.flat().map((e) => e.seq);
    await expect.poll(() => reader.seqs.slice(-published.length), { timeout: 10_000 }).toEqual(published);
    expect(reader.closeCode()).toBe(null);
    expect(await slowClosed()).toBe(closedBefore);
    reader.close();
  }, 30_000);
});
