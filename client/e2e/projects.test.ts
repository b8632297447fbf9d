// The project switcher in headless Chromium against a real server: the instance administrator
// creates a project and its first ADMIN token, switches to it, adds a token, switches back.
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/harness.ts';
import { expectNoPageErrors, launchBrowser, screenshot } from './browser.ts';

let t: TestServer;
let browser: Browser;

beforeAll(async () => {
  t = await startTestServer();
  browser = await launchBrowser();
}, 90_000);
afterEach(() => expectNoPageErrors());
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('project switcher', () => {
  it('creates a project with its first ADMIN token, switches to it and back; a bad token is refused with a sentence', async () => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(`${t.url}/#token=${t.adminToken}`);
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    await page.getByRole('link', { name: 'Projects' }).click();
    const list = page.getByRole('list', { name: 'Your projects' });
    await expect.poll(() => list.textContent()).toMatch(/\(default\).*current/);

    const form = page.getByRole('form', { name: 'New project' });
    await form.getByLabel('Slug').fill('payments');
    await form.getByLabel('Name').fill('Payments team');
    await form.getByRole('button', { name: 'Create project' }).click();
    const secret = (await form.getByTestId('new-admin-token').textContent())!;
    const who = await t.gql(`{ viewer { role project { slug } } }`, {}, secret);
    expect(who.data.viewer).toEqual({ role: 'ADMIN', project: { slug: 'payments' } });
    await screenshot(page, '14-projects');

    await list.getByRole('button', { name: 'Switch to Payments team' }).click();
    await expect.poll(() => page.locator('header .who').textContent()).toContain('Payments team');
    // Its ADMIN is not the instance administrator: no New project form.
    await page.getByRole('link', { name: 'Projects' }).click();
    await expect.poll(() => list.textContent()).toMatch(/Payments team.*current/);
    expect(await page.getByRole('form', { name: 'New project' }).count()).toBe(0);

    const add = page.getByRole('form', { name: 'Add a token' });
    await add.getByLabel('API token of another project').fill('adv_not-a-real-token');
    await add.getByRole('button', { name: 'Add token' }).click();
    await expect.poll(() => add.getByRole('alert').textContent()).toMatch(/token/i);

    await list.getByRole('button', { name: /^Switch to / }).click();
    await expect.poll(() => page.locator('header .who').textContent()).not.toContain('Payments team');
    expect(await page.evaluate(() => localStorage.getItem('autodev.token'))).toBe(t.adminToken);
  }, 120_000);
});
