// A subscriber that reads is not cut off by its own replay: a job's stored events are handed over
// a few hundred KiB per turn of the event loop, not a page (500 events) in one tick, whose writes
// would all count against the slow-subscriber bound before the client could read any of them.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendJobEvents } from '../jobs/job-event.ts';
import { CREATE_JOB, JOB_EVENTS, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';

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
    const ws = new WebSocket(t.url.replace('http', 'ws') + '/graphql', 'graphql-transport-ws');
    const seqs: number[] = [];
    let closed: number | null = null;
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${t.adminToken}` } })));
    ws.on('message', (raw) => {
      const m = JSON.parse((raw as Buffer).toString());
      if (m.type === 'connection_ack')
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: JOB_EVENTS, variables: { jobId } } }));
      if (m.type === 'next') seqs.push(m.payload.data.jobEvents.seq);
    });
    ws.on('close', (code) => (closed = code));
    ws.on('error', () => {});
    // 100 events of 20 KiB (2 MiB) after the job's creation event, against a 1 MiB bound.
    await expect.poll(() => (closed === null ? seqs.length : -1), { timeout: 10_000 }).toBeGreaterThanOrEqual(stored.length + 1);
    expect(closed).toBe(null);
    expect(seqs.slice(-stored.length)).toEqual(stored);
    ws.close();
  }, 30_000);
});
