// What a browser, or curl, meets at the API's address: CORS only for configured origins, the app at
// `/` for any client, GraphiQL without a CDN, and a sentence for graphql-sse's single connection mode.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';

const ALLOWED = 'https://app.example.com';
let plain: TestServer;
let withCors: TestServer;

beforeAll(async () => {
  [plain, withCors] = await Promise.all([
    startTestServer(),
    startTestServer({ env: { AUTODEV_CORS_ORIGINS: `${ALLOWED}, http://localhost:5173` } }),
  ]);
});
afterAll(async () => {
  await Promise.all([plain?.close(), withCors?.close()]);
});

const query = (t: TestServer, origin: string) =>
  fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json', authorization: `Bearer ${t.adminToken}` },
    body: JSON.stringify({ query: '{ viewer { role } }' }),
  });
const preflight = (t: TestServer, origin: string) =>
  fetch(`${t.url}/graphql`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });

describe('CORS', () => {
  it('grants no other origin anything by default: no Access-Control-Allow-* header on answers or preflights', async () => {
    for (const origin of ['https://evil.example', 'null', plain.url.replace('127.0.0.1', 'localhost')]) {
      for (const res of [await query(plain, origin), await preflight(plain, origin)]) {
        expect(
          [...res.headers.keys()].filter((h) => h.startsWith('access-control-')),
          origin,
        ).toEqual([]);
      }
    }
  });

  it('grants exactly the listed origins, without credentials', async () => {
    const res = await query(withCors, ALLOWED);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('vary')).toContain('Origin');
    const pre = await preflight(withCors, 'http://localhost:5173');
    expect(pre.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(pre.headers.get('access-control-allow-headers')).toContain('authorization');
    for (const origin of ['https://evil.example', `${ALLOWED}.evil.example`, 'http://app.example.com', 'null']) {
      expect((await query(withCors, origin)).headers.get('access-control-allow-origin'), origin).toBeNull();
      expect((await preflight(withCors, origin)).headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });
});

describe('the root address', () => {
  it('answers / with the web app for any client (curl sends Accept: */*, or nothing)', async () => {
    for (const accept of ['*/*', undefined, 'application/json', 'text/html']) {
      const res = await fetch(`${plain.url}/`, { headers: accept ? { accept } : {} });
      expect(res.status, String(accept)).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(await res.text()).toContain('<div id="root">');
    }
  });

  it('answers other unknown paths that are not pages with a JSON 404 that points to /graphql', async () => {
    const res = await fetch(`${plain.url}/no/such/thing`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: 'NOT_FOUND', error: expect.stringContaining('/graphql') });
  });
});

describe('GraphiQL', () => {
  it('is served whole from the server: no script, style, font or worker from another host', async () => {
    const res = await fetch(`${plain.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('YogaGraphiQL.renderYogaGraphiQL');
    expect(page.length).toBeGreaterThan(1_000_000); // the bundle is inlined
    expect(page).not.toMatch(/<script[^>]+src\s*=\s*["']?(https?:)?\/\//i);
    expect(page).not.toMatch(/<link[^>]+href\s*=\s*["']?(https?:)?\/\//i);
    expect(page).not.toMatch(/@import\s+(url\()?["']?(https?:)?\/\//i);
    expect(page).not.toMatch(/unpkg\.com|jsdelivr|cdnjs|fonts\.googleapis/i);
    // …and the browser is told to load nothing from elsewhere.
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toMatch(/https?:|\*/);
  });

  it('is sent compressed to clients that accept gzip', async () => {
    const res = await fetch(`${plain.url}/graphql`, { headers: { accept: 'text/html', 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(Number(res.headers.get('content-length'))).toBeLessThan(3_000_000);
    expect(await res.text()).toContain('YogaGraphiQL.renderYogaGraphiQL'); // fetch decompresses
  });

  it('costs the server no memory per client: 200 clients that ask for it and never read grow it by less than 64 MiB', async () => {
    const port = Number(new URL(plain.url).port);
    await fetch(`${plain.url}/graphql`, { headers: { accept: 'text/html' } }).then((r) => r.text()); // rendered once
    const before = process.memoryUsage().rss;
    const sockets = Array.from({ length: 200 }, () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      socket.write('GET /graphql HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\n\r\n');
      socket.pause();
      return socket;
    });
    await new Promise((r) => setTimeout(r, 2000));
    const grown = (process.memoryUsage().rss - before) / 2 ** 20;
    sockets.forEach((s) => s.destroy());
    console.log(`GraphiQL to 200 clients that do not read: RSS +${grown.toFixed(0)} MiB`);
    expect(grown).toBeLessThan(64);
  });
});

describe('graphql-sse', () => {
  it('answers the single connection mode (a PUT reservation) with a 405 that says which mode is served', async () => {
    const res = await fetch(`${plain.url}/graphql`, { method: 'PUT', headers: { authorization: `Bearer ${plain.adminToken}` } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST, OPTIONS');
    expect(await res.json()).toEqual({ code: 'METHOD_NOT_ALLOWED', error: expect.stringContaining('distinct connections mode') });
  });
});
