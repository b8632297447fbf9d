// A subscriber that reads is not cut off by its own replay: a job's stored events are handed over
// a few hundred KiB per turn of the event loop, not a page (500 events) in one tick, whose writes
// would all count against the slow-subscriber bound before the client could read any of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendJobEvents } from '../jobs/job-event.ts';
import { CREATE_JOB, JOB_EVENTS, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { bareWsSubscriber } from '../test/bare-ws-subscriber.ts';

const BUFFER = 1024 * 1024;
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ env: { AUTODEV_SUBSCRIBER_BUFFER_BYTES: String(BUFFER) } });
});
afterAll(async () => {
  await t?.close();
});

describe("a job's replay", () => {
  it('reaches a reading subscriber whole when its stored events are twice the bound', async () => {
    const jobId = (await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } })).data.createJob.id;
    const stored: number[] = [];
    for (let c = 0; c < 10; c++) {
      const batch = Array.from({ length: 10 }, (_, k) => ({
        type: 'LOG' as const,
        message: `${c}.${k} ${'x'.repeat(20 * 1024)}`,
        actor: 'test',
      }));
      stored.push(...(await appendJobEvents(t.app.services.pool, jobId, batch)).map((e) => e.seq));
    }
    const reader = bareWsSubscriber(t.url, t.adminToken, { query: JOB_EVENTS, variables: { jobId } }, (d) => d.jobEvents.seq);
    // 100 events of 20 KiB (2 MiB) after the job's creation event, against a 1 MiB bound.
    await expect
      .poll(() => (reader.closeCode() === null ? reader.seqs.length : -1), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(stored.length + 1);
    expect(reader.closeCode()).toBe(null);
    expect(reader.seqs.slice(-stored.length)).toEqual(stored);
    reader.close();
  }, 30_000);
});
