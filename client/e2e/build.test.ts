import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { generate } from '@graphql-codegen/cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import codegenConfig from '../../codegen.ts';
import { startTestServer, type TestServer } from '../../server/test/harness.ts';

// The build the server serves (built once before the suite by server/test/global-setup.ts).
const ASSETS = path.resolve('client/dist/assets');
/** What a first visit may download (gzip), and what all the app's JavaScript may weigh. */
const BUDGET = { entryKiB: 130, totalJsKiB: 260 };

describe('the web app build', () => {
  it(`stays within its size budget (entry ≤ ${BUDGET.entryKiB} KiB gzip, all JavaScript ≤ ${BUDGET.totalJsKiB} KiB gzip)`, () => {
    const html = readFileSync('client/dist/index.html', 'utf8');
    const entry = /src="\/assets\/([^"]+\.js)"/.exec(html)![1];
    const gz = (f: string) => gzipSync(readFileSync(path.join(ASSETS, f))).length / 1024;
    const js = readdirSync(ASSETS).filter((f) => f.endsWith('.js'));
    const total = js.reduce((s, f) => s + gz(f), 0);
    console.log(`web app: entry ${entry} ${gz(entry).toFixed(1)} KiB gzip; ${js.length} JavaScript files ${total.toFixed(1)} KiB gzip`);
    expect(gz(entry)).toBeLessThanOrEqual(BUDGET.entryKiB);
    expect(total).toBeLessThanOrEqual(BUDGET.totalJsKiB);
  });

  it('has typed operations generated from the committed schema and the current client code (npm run codegen)', async () => {
    const outputs = (await generate({ ...codegenConfig, silent: true } as any, false)) as { filename: string; content: string }[];
    expect(outputs.length).toBeGreaterThan(0);
    for (const o of outputs) {
      expect(readFileSync(o.filename, 'utf8'), `${o.filename} is stale: run npm run codegen`).toBe(o.content);
    }
  });
});

describe('the server serves the web app', () => {
  let t: TestServer;
  beforeAll(async () => (t = await startTestServer()));
  afterAll(() => t?.close());

  const get = (p: string, accept = 'text/html') =>
    new Promise<{ status: number; type: string; body: string; cache: string }>((resolve, reject) => {
      const u = new URL(t.url);
      http
        .get({ host: u.hostname, port: u.port, path: p, headers: { accept } }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              type: String(res.headers['content-type']),
              body,
              cache: String(res.headers['cache-control']),
            }),
          );
        })
        .on('error', reject);
    });

  it('at / and at every app path, with long-cached assets; never a file outside the build', async () => {
    for (const p of ['/', '/jobs/123', '/reviews']) {
      const r = await get(p);
      expect(r.status).toBe(200);
      expect(r.body).toContain('<div id="root">');
      expect(r.cache).toBe('no-cache');
    }
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec((await get('/')).body)![1];
    const a = await get(asset, '*/*');
    expect(a.status).toBe(200);
    expect(a.type).toMatch(/javascript/);
    expect(a.cache).toContain('immutable');
    for (const p of ['/%2e%2e/%2e%2e/package.json', '/assets/..%2f..%2f..%2fpackage.json', '/..%5c..%5cpackage.json']) {
      const r = await get(p, '*/*');
      expect(r.status, p).toBe(404);
      expect(r.body).not.toContain('"name": "autodev"');
    }
    // GraphiQL is still at /graphql.
    expect((await get('/graphql')).body).toMatch(/graphiql/i);
  });
});
