// The glue between ws and the protocol (websocket-connections.ts, graphql-transport-ws.ts): what a connection
// keeps while its subscription idles, and the keep-alive that ends a peer that stopped answering.
import http from 'node:http';
import { runInNewContext } from 'node:vm';
import v8 from 'node:v8';
import { buildSchema, parse, subscribe, execute } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket, { WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.ts';
import { admitWebSockets } from './websocket-admission.ts';
import { serveGraphqlWs, type ConnectionExtra } from './websocket-connections.ts';
import type { ProtocolHooks } from './graphql-transport-ws.ts';

const gc = (() => {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

const schema = buildSchema('type Query { ok: Boolean } type Subscription { ticks: Int }');
/** A subscription that idles: its source never yields. */
const roots = {
  subscription: {
    ticks: () => ({ [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => {}), return: () => Promise.resolve({ done: true }) }) }),
  },
};

const hooks: ProtocolHooks<ConnectionExtra> = {
  connectionInitWaitTimeout: 3_000,
  onConnect: () => true,
  onSubscribe: (_ctx, _id, payload) =>
    Promise.resolve({
      schema,
      document: parse(payload.query),
      variableValues: payload.variables ?? undefined,
      rootValue: roots.subscription,
    }),
  execute: (args) => execute(args),
  subscribe: (args) => subscribe(args),
  onClose: () => {},
};

let stopAll: (() => Promise<void>) | null = null;
afterEach(async () => {
  await stopAll?.();
  stopAll = null;
});

async function start(keepAliveMs?: number) {
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true, path: '/graphql' });
  const admission = admitWebSockets(server, wss, { maxConnections: 0, maxConnectionsPerAddress: 0 });
  const api = serveGraphqlWs(wss, hooks, createLogger('fatal'), keepAliveMs);
  const requests: WeakRef<http.IncomingMessage>[] = [];
  server.prependListener('upgrade', (req: http.IncomingMessage) => requests.push(new WeakRef(req)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `ws://127.0.0.1:${(server.address() as { port: number }).port}/graphql`;
  stopAll = async () => {
    admission.stop();
    await api.dispose();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return { url, requests, wss };
}

describe('a connection of the WebSocket glue', () => {
  it('lets the upgrade request go while its subscription stays open', async () => {
    const { url, requests, wss } = await start();
    const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0 });
    let subscribed = false;
    client.on('connected', () => (subscribed = true));
    const dispose = client.subscribe({ query: 'subscription { ticks }' }, { next: () => {}, error: () => {}, complete: () => {} });
    await expect.poll(() => subscribed).toBe(true);
    await new Promise((r) => setTimeout(r, 100)); // the subscribe message handled
    expect(requests).toHaveLength(1);
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
    expect([...wss.clients].map((s) => s.readyState)).toEqual([WebSocket.OPEN]);
    expect(requests[0].deref(), 'the upgrade request is still reachable from the open connection').toBeUndefined();
    dispose();
    await client.dispose();
  });

  it('terminates a socket that stops answering pings, and keeps one that answers', async () => {
    const { url } = await start(100);
    const open = (autoPong: boolean) =>
      new Promise<WebSocket>((resolve) => {
        const ws = new WebSocket(url, 'graphql-transport-ws', { autoPong });
        ws.on('open', () => resolve(ws));
      });
    const [silent, answering] = await Promise.all([open(false), open(true)]);
    const closedAt = new Map<WebSocket, number>();
    const started = Date.now();
    for (const ws of [silent, answering]) ws.on('close', (code) => closedAt.set(ws, code));
    await expect.poll(() => closedAt.has(silent), { timeout: 2000 }).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000); // within two intervals, give or take a loaded machine
    expect(closedAt.get(silent)).toBe(1006); // terminated: no close frame
    expect(closedAt.has(answering)).toBe(false);
    answering.close();
  });
});
