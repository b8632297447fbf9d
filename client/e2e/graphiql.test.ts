import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/harness.ts';
import { expectNoPageErrors, launchBrowser, screenshot } from './browser.ts';

// GraphiQL as an integrator opens it on a machine without internet access: every request that
// leaves the server's own address is refused, and the playground must still come up and work.

let t: TestServer;
let browser: Browser;

beforeAll(async () => {
  t = await startTestServer();
  browser = await launchBrowser();
});
// A browser asks for /favicon.ico on its own; the playground does not ship one.
afterEach(() => expectNoPageErrors(/favicon/i));
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('GraphiQL offline', () => {
  it('renders its editor and loads the schema with every other host unreachable', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const own = new URL(t.url).host;
    const elsewhere: string[] = [];
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.protocol === 'blob:' || url.protocol === 'data:' || url.host === own) return route.continue();
      elsewhere.push(url.href);
      return route.abort('internetdisconnected');
    });
    const introspection = page.waitForResponse(
      (r) =>
        r.url().startsWith(`${t.url}/graphql`) && r.request().method() === 'POST' && (r.request().postData() ?? '').includes('__schema'),
      { timeout: 30_000 },
    );
    introspection.catch(() => {}); // awaited below; a page that never asks must fail there, not as an unhandled rejection
    await page.goto(`${t.url}/graphql`);
    await page.locator('.graphiql-container').first().waitFor({ timeout: 30_000 });
    expect((await introspection).status()).toBe(200);
    await expect(page.getByText('Loading…', { exact: false }).count()).resolves.toBe(0);
    await screenshot(page, 'graphiql-offline');
    expect(elsewhere).toEqual([]);
    await page.close();
  }, 90_000);
});
