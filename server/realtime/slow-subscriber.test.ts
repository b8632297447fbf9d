import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLOW_SUBSCRIBER_CLOSE_CODE } from '../http/websocket-server.ts';
import { appendJobEvents } from '../jobs/job-event.ts';
import { CREATE_JOB, JOB_EVENTS, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';

const BUFFER = 8 * 1024 * 1024; // above any burst a reading subscriber sees here (batches of 1.6 MiB)
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ env: { AUTODEV_SUBSCRIBER_BUFFER_BYTES: String(BUFFER) } });
});
afterAll(async () => {
  await t?.close();
});

/** A graphql-ws client written by hand, so that its socket can stop reading. */
function rawSubscriber(jobId: string) {
  const ws = new WebSocket(t.url.replace('http', 'ws') + '/graphql', 'graphql-transport-ws');
  let received = 0;
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const firstEvent = new Promise<void>((resolve) =>
    ws.on('message', (raw) => {
      const m = JSON.parse((raw as Buffer).toString());
      if (m.type === 'connection_ack')
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: JOB_EVENTS, variables: { jobId } } }));
      if (m.type === 'next') {
        received++;
        resolve();
      }
    }),
  );
  ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${t.adminToken}` } })));
  return {
    firstEvent,
    closed,
    received: () => received,
    stopReading: () => (ws as unknown as { _socket: { pause(): void } })._socket.pause(),
    resumeReading: () => (ws as unknown as { _socket: { resume(): void } })._socket.resume(),
  };
}

describe('a subscriber that stops reading', () => {
  it('is closed with 1008 once the events waiting for it pass the bound; a reading subscriber gets every event', async () => {
    const jobId = (await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } })).data.createJob.id;
    const slow = rawSubscriber(jobId);
    await slow.firstEvent;
    slow.stopReading();

    const EVENTS = 2500; // 80 MiB: more than loopback's kernel buffers absorb (up to 32 MiB receive + 4 MiB send)
    const message = 'x'.repeat(32 * 1024);
    let healthy = 0;
    const healthyDone = new Promise<void>((resolve, reject) =>
      t.ws().subscribe(
        { query: JOB_EVENTS, variables: { jobId } },
        {
          next: () => ++healthy === EVENTS + 1 && resolve(),
          error: reject,
          complete: () => {},
        },
      ),
    );
    // Live once the replayed creation event arrived (the stream listens before it replays).
    await expect.poll(() => healthy, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    // The stalled client reads again as soon as the server has cut it off, as a client that pauses
    // briefly would: the server terminates a socket whose close handshake has not finished within
    // 10 s, and on a loaded machine the reading subscriber can take longer than that to get the rest.
    const slowClosedCount = async () => (await t.app.services.metrics.slowSubscribersClosed.get()).values[0]?.value ?? 0;
    let publishing = true;
    const cutOff = (async () => {
      while (publishing && (await slowClosedCount()) < 1) await new Promise((r) => setTimeout(r, 20));
      slow.resumeReading();
    })();
    const { pool, events } = t.app.services;
    for (let i = 0; i < EVENTS; i += 50) {
      // A reading subscriber is one that keeps up: never more than ~100 events (3 MiB) behind here,
      // however loaded the machine is; the stalled one falls behind without limit.
      while (healthy < i - 100) await new Promise((r) => setTimeout(r, 5));
      const batch = Array.from({ length: 50 }, (_, k) => ({ type: 'LOG' as const, message: `${i + k} ${message}`, actor: 'test' }));
      await events.publish(await appendJobEvents(pool, jobId, batch));
    }
    await healthyDone;
    expect(healthy).toBe(EVENTS + 1);

    await expect.poll(slowClosedCount, { timeout: 10_000 }).toBe(1);
    publishing = false;
    await cutOff;
    const { code, reason } = await slow.closed;
    expect(code).toBe(SLOW_SUBSCRIBER_CLOSE_CODE);
    expect(reason).toMatch(/too slow/);
    // It got part of the stream before it was cut off, not all of it, and can resume with afterSeq.
    expect(slow.received()).toBeLessThan(EVENTS);
    console.log(
      `slow subscriber: ${EVENTS} events of 32 KiB (${((EVENTS * 32) / 1024).toFixed(0)} MiB) published; the reading subscriber got all; the stalled one got ${slow.received()} before close ${code} at a ${BUFFER / 1024} KiB bound`,
    );
  }, 60_000);
});
