import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPrivateAddress } from './destination.ts';
import { outboundPost, type OutboundLimits } from './outbound-post.ts';
import { generateWebhookSecret, signDelivery } from './sign.ts';

// Real HTTP receivers on 127.0.0.1: what each got, and how each answers.
interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}
const received: Received[] = [];
let redirectTargetHits = 0;
const servers: http.Server[] = [];
const sockets = new Set<import('node:net').Socket>();
async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let receiver: string;
let redirectTarget: string;
let redirecting: string;
let silent: string;
let flooding: string;
beforeAll(async () => {
  receiver = await serve((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  redirectTarget = await serve((_req, res) => {
    redirectTargetHits++;
    res.writeHead(200).end('followed');
  });
  redirecting = await serve((_req, res) => res.writeHead(302, { location: redirectTarget }).end());
  silent = await serve(() => {}); // accepts, never answers
  flooding = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const pump = () => {
      while (res.write(chunk));
    };
    res.on('drain', pump);
    pump(); // endless: only a cap ends it
  });
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

const ALLOW: OutboundLimits = { timeoutMs: 2000, maxResponseBytes: 4096, allowPrivate: true };
const DENY: OutboundLimits = { ...ALLOW, allowPrivate: false };

describe('signed deliveries (Standard Webhooks)', () => {
  it("the receiver verifies a delivery with the standardwebhooks library's verify; a tampered body fails", async () => {
    const secret = generateWebhookSecret();
    const body = JSON.stringify({ type: 'job.state_changed', data: { jobId: 'j1', state: 'SUCCEEDED' } });
    const headers = signDelivery([secret], 'msg_abc', new Date(), body);
    const result = await outboundPost(`${receiver}/hook`, { ...headers }, body, ALLOW);
    expect(result).toMatchObject({ ok: true, status: 204, error: null });
    const got = received.at(-1)!;
    const asSent = {
      'webhook-id': String(got.headers['webhook-id']),
      'webhook-timestamp': String(got.headers['webhook-timestamp']),
      'webhook-signature': String(got.headers['webhook-signature']),
    };
    expect(new Webhook(secret).verify(got.body, asSent)).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(got.body.replace('SUCCEEDED', 'FAILED'), asSent)).toThrow(/signature/i);
    expect(() => new Webhook(generateWebhookSecret()).verify(got.body, asSent)).toThrow(/signature/i);
  });

  it('during a rotation both secrets sign, so a receiver holding either one verifies', () => {
    const [previous, next] = [generateWebhookSecret(), generateWebhookSecret()];
    const body = '{"type":"review.requested"}';
    const headers = signDelivery([next, previous], 'msg_rot', new Date(), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const secret of [previous, next]) expect(new Webhook(secret).verify(body, { ...headers })).toEqual({ type: 'review.requested' });
  });
});

describe('outbound safety', () => {
  it('private, loopback and link-local destinations are refused unless allowed, also by a name resolving to one', async () => {
    const port = new URL(receiver).port;
    const before = received.length;
    for (const url of [
      `http://127.0.0.1:${port}/`,
      `http://localhost:${port}/`,
      `http://[::1]:${port}/`,
      `http://[::ffff:127.0.0.1]:${port}/`,
      'http://169.254.169.254/latest/meta-data',
      'http://10.1.2.3/',
      'http://192.168.0.1/',
    ]) {
      const result = await outboundPost(url, {}, '{}', DENY);
      expect(result, url).toMatchObject({ ok: false, status: null, refused: true });
      expect(result.error, url).toMatch(/private, loopback or link-local/);
    }
    expect(received.length).toBe(before); // nothing reached the receiver
    expect(await outboundPost(`http://localhost:${port}/`, {}, '{}', ALLOW)).toMatchObject({ ok: true, status: 204 });
    expect(received.length).toBe(before + 1);
  });

  it('classifies addresses: public ones pass, every private range is refused', () => {
    for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) expect(isPrivateAddress(a), a).toBe(false);
    for (const a of [
      '0.0.0.0',
      '10.0.0.1',
      '100.64.1.1',
      '127.0.0.53',
      '169.254.169.254',
      '172.16.5.4',
      '172.31.255.255',
      '192.168.1.1',
      '224.0.0.1',
      '255.255.255.255',
      '::',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
      'not-an-ip',
    ]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
  });

  it('URLs with other schemes or credentials are refused before any connection', async () => {
    for (const url of ['ftp://example.com/', 'file:///etc/passwd', 'http://user:pw@example.com/', 'not a url']) {
      expect(await outboundPost(url, {}, '{}', ALLOW), url).toMatchObject({ ok: false, refused: true });
    }
  });

  it('a redirect is not followed: a 3xx is a failed attempt', async () => {
    const result = await outboundPost(redirecting, {}, '{}', ALLOW);
    expect(result).toMatchObject({ ok: false, status: 302 });
    expect(redirectTargetHits).toBe(0);
  });

  it('a receiver that never answers costs one timeout', async () => {
    const result = await outboundPost(silent, {}, '{}', { ...ALLOW, timeoutMs: 500 });
    expect(result).toMatchObject({ ok: false, status: null, error: 'No complete answer within 500 ms.' });
    expect(result.durationMs).toBeGreaterThanOrEqual(450);
    expect(result.durationMs).toBeLessThan(5000);
  });

  it('an endless response body is cut at the cap', async () => {
    const result = await outboundPost(flooding, {}, '{}', ALLOW);
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(result.body!.length).toBe(4096);
  });
});
