// A reading subscriber of a project's events is not cut off when the stream hands over a page of
// stored events at once: a gap fill (an event published after others that were not) and a
// catch-up after a pub/sub outage read up to a page from the table and deliver it in one tick.
// The slow-subscriber bound must count what the client has left unread, not what one tick writes;
// and a catch-up of more than a page (500 events) hands each over a few hundred KiB per turn, as
// a job's replay does, so the client reads between pages.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendJobEvents } from '../jobs/job-event.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { bareWsSubscriber } from '../test/bare-ws-subscriber.ts';
import { publishUntilLive } from '../test/publish-log-events.ts';
import { startRedisProcess } from '../test/redis-process.ts';

const BUFFER = 1024 * 1024;
const QUERY = 'subscription { projectEvents { jobId seq message } }';

// A Redis of this test's own: the catch-up is asked for on its resync channel, which every process on a Redis listens to.
let redis: Awaited<ReturnType<typeof startRedisProcess>>;
let t: TestServer;
beforeAll(async () => {
  redis = await startRedisProcess();
  t = await startTestServer({ redisUrl: redis.url, env: { AUTODEV_SUBSCRIBER_BUFFER_BYTES: String(BUFFER) } });
});
afterAll(async () => {
  await t?.close();
  await redis?.stop();
});

/** A job, a subscriber of its project's events that is live, and the events it has not been sent yet: 100 of 20 KiB (2 MiB, twice the bound), stored only. */
async function subscriberAndStoredBurst(count = 100) {
  const jobId = (await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } })).data.createJob.id;
  const reader = bareWsSubscriber(t.url, t.adminToken, { query: QUERY }, (d) =>
    d.projectEvents.jobId === jobId ? d.projectEvents.seq : undefined,
  );
  await publishUntilLive(t.app.services, jobId, () => reader.seqs.length > 0);
  const stored = await appendJobEvents(
    t.app.services.pool,
    jobId,
    Array.from({ length: count }, (_, k) => ({ type: 'LOG' as const, message: `${k} ${'x'.repeat(20 * 1024)}`, actor: 'test' })),
  );
  return { reader, stored };
}

const slowClosed = async () => (await t.app.services.metrics.slowSubscribersClosed.get()).values[0]?.value ?? 0;

/** How the stored events reach the stream: a gap fill or a catch-up. */
const handOvers = {
  // Only the last one is published: the stream reads the ones before it from the table.
  'a gap fill': (stored: Awaited<ReturnType<typeof subscriberAndStoredBurst>>['stored']) => t.app.services.events.publish(stored.slice(-1)),
  // What a process whose publishing connection to Redis came back tells every process: read what you missed.
  'a catch-up after an outage': async () => {
    const client = new Redis(redis.url);
    await client.publish('autodev:resync', '1');
    client.disconnect();
  },
};

describe("a project's stream handing over a page of stored events", () => {
  it.each([
    ['a gap fill', 100],
    ['a gap fill', 1200],
    ['a catch-up after an outage', 100],
    ['a catch-up after an outage', 1200],
  ] as const)(
    '%s reaches a reading subscriber whole: %i stored events of 20 KiB (twice the bound and more)',
    async (how, count) => {
      const { reader, stored } = await subscriberAndStoredBurst(count);
      const closedBefore = await slowClosed();
      await handOvers[how](stored);
      const seqs = stored.map((e) => e.seq);
      await expect
        .poll(() => (reader.closeCode() === null ? reader.seqs.slice(-seqs.length) : 'closed'), { timeout: 10_000 })
        .toEqual(seqs);
      expect(await slowClosed()).toBe(closedBefore);
      reader.close();
    },
    30_000,
  );
});
