// /metrics names every project's budget, templates and job counts: never open on the public API
// port; a port of its own (AUTODEV_METRICS_PORT) for scrapers, and/or a token (AUTODEV_METRICS_TOKEN).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';

const TOKEN = 'metrics-token-for-the-test';
let plain: TestServer; // neither setting
let withPort: TestServer; // AUTODEV_METRICS_PORT only
let withBoth: TestServer; // AUTODEV_METRICS_PORT and AUTODEV_METRICS_TOKEN

beforeAll(async () => {
  [plain, withPort, withBoth] = await Promise.all([
    startTestServer(),
    startTestServer({ env: { AUTODEV_METRICS_PORT: '0' } }),
    startTestServer({ env: { AUTODEV_METRICS_PORT: '0', AUTODEV_METRICS_TOKEN: TOKEN } }),
  ]);
});
afterAll(async () => {
  await Promise.all([plain?.close(), withPort?.close(), withBoth?.close()]);
});

const scrape = (base: string, token?: string) => fetch(`${base}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('/metrics', () => {
  it('is not served on the API port without a metrics token (404 with where to look), not even to an admin token', async () => {
    for (const t of [plain, withPort]) {
      for (const token of [undefined, t.adminToken]) {
        const res = await scrape(t.url, token);
        expect(res.status).toBe(404);
        const body = await res.text();
        expect(body).toContain('AUTODEV_METRICS_PORT');
        expect(body).not.toContain('autodev_');
      }
    }
  });

  it('is served on the metrics port, which serves the probes too and nothing of the API', async () => {
    const base = withPort.app.metricsUrl!;
    expect(new URL(base).port).not.toBe(new URL(withPort.url).port);
    const res = await scrape(base);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('autodev_budget_limit_usd');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/graphql?query=%7Bviewer%7Brole%7D%7D`)).status).toBe(404);
  });

  it('needs the metrics token on every port once one is set (401 without it or with another)', async () => {
    for (const base of [withBoth.url, withBoth.app.metricsUrl!]) {
      for (const token of [undefined, 'wrong', withBoth.adminToken]) {
        const res = await scrape(base, token);
        expect(res.status, `${base} with ${token}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
        expect(await res.text()).not.toContain('autodev_');
      }
      const res = await scrape(base, TOKEN);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('autodev_jobs');
    }
  });

  it('labels operations by name only for callers with a token: 300 names sent without one take no label place', async () => {
    const names = Array.from({ length: 300 }, (_, i) => `Stranger${i}`);
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(
        names.slice(i, i + 50).map((name) => withPort.gql(`query ${name} { templates(first: 1) { edges { node { slug } } } }`, {}, null)),
      );
    }
    await withPort.gql(`query KnownDashboard { viewer { role } }`);
    const body = await (await scrape(withPort.app.metricsUrl!)).text();
    expect(body).not.toMatch(/Stranger\d+/);
    expect(body).toMatch(/autodev_graphql_operation_duration_seconds_count\{operation="unauthenticated",type="query"\} 300/);
    expect(body).toMatch(/autodev_graphql_operation_duration_seconds_count\{operation="KnownDashboard",type="query"\} 1/);
  });
});
