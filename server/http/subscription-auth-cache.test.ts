// An idle subscription does not keep its auth scopes' cache (Pothos' RequestCache): it served the
// subscribe's checks and would otherwise live, six Maps of it, as long as the subscription.
import { Session } from 'node:inspector/promises';
import { RequestCache } from '@pothos/plugin-scope-auth';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

/** How many RequestCache objects are alive (the inspector collects garbage before it counts). */
async function liveRequestCaches(): Promise<number> {
  const session = new Session();
  session.connect();
  try {
    (globalThis as Record<string, unknown>).__requestCachePrototype = RequestCache.prototype;
    const proto = await session.post('Runtime.evaluate', { expression: 'globalThis.__requestCachePrototype' });
    const found = await session.post('Runtime.queryObjects', { prototypeObjectId: proto.result.objectId! });
    const length = await session.post('Runtime.callFunctionOn', {
      objectId: found.objects.objectId!,
      functionDeclaration: 'function () { return this.length; }',
      returnByValue: true,
    });
    return length.result.value as number;
  } finally {
    delete (globalThis as Record<string, unknown>).__requestCachePrototype;
    session.disconnect();
  }
}

/** A socket with `n` subscriptions sent on it. */
async function subscribe(n: number) {
  const ws = new WebSocket(t.url.replace('http', 'ws') + '/graphql', 'graphql-transport-ws');
  await new Promise<void>((resolve) => {
    ws.on('message', (raw: Buffer) => {
      if (JSON.parse(raw.toString()).type === 'connection_ack') resolve();
    });
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${t.adminToken}` } })));
  });
  for (let i = 0; i < n; i++) {
    ws.send(JSON.stringify({ id: `s${i}`, type: 'subscribe', payload: { query: 'subscription { projectEvents { seq } }' } }));
  }
  return ws;
}

describe('an idle subscription', () => {
  it('keeps no auth scopes cache once subscribed', async () => {
    const before = await liveRequestCaches();
    const ws = await subscribe(20);
    // Open once their group counts them; the guard's onSubscribeResult runs moments after.
    const open = async () =>
      (await t.app.services.metrics.subscriptions.get()).values.find((v) => v.labels.field === 'projectEvents')?.value;
    await expect.poll(open, { timeout: 5000 }).toBe(20);
    await new Promise((r) => setTimeout(r, 200));
    expect(await liveRequestCaches()).toBeLessThanOrEqual(before + 1);
    ws.close();
  });
});
