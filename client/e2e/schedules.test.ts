// The Schedules page in headless Chromium against a real server: create a schedule with the
// template's generated input form (a bad cron expression refused with the server's sentence first),
// see its next run, pause and resume it, edit its cron expression, delete it.
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/harness.ts';
import { SCRIPTED_RUNNER_COMMAND, scriptedTemplate, upsertTemplate } from '../../server/test/scripted.ts';
import { expectNoPageErrors, launchBrowser, screenshot } from './browser.ts';

let t: TestServer;
let browser: Browser;

beforeAll(async () => {
  t = await startTestServer({ role: 'all', env: { AUTODEV_RUNNER_COMMAND: SCRIPTED_RUNNER_COMMAND } });
  await upsertTemplate(t.gql, { ...scriptedTemplate('nightly'), name: 'Nightly report' });
  browser = await launchBrowser();
}, 90_000);
afterEach(() => expectNoPageErrors());
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

async function signedIn(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, timezoneId: 'Europe/Paris' });
  const page = await context.newPage();
  await page.goto(`${t.url}/#token=${t.adminToken}`);
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  return page;
}

const schedules = async () =>
  (await t.gql(`{ schedules { id cron timezone paused nextRunAt input template { slug } } }`)).data.schedules as {
    id: string;
    cron: string;
    timezone: string;
    paused: boolean;
    nextRunAt: string | null;
    input: unknown;
  }[];

describe('Schedules page', () => {
  it('creates, pauses, resumes, edits and deletes a schedule', async () => {
    const page = await signedIn();
    await page.getByRole('link', { name: 'Schedules' }).click();
    await page.getByText('No schedule yet.').waitFor();

    const form = page.getByRole('region', { name: 'New schedule' });
    await form.getByLabel('Template').selectOption('nightly');
    await form.getByLabel('script').fill('ok');
    await form.getByLabel('Cron expression').fill('every morning');
    expect(await form.getByLabel('Time zone').inputValue()).toBe('Europe/Paris');
    await form.getByRole('button', { name: 'Create schedule' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toMatch(/"every morning" is not a cron expression/);
    expect(await schedules()).toEqual([]);

    await form.getByLabel('Cron expression').fill('0 0 9 * * *');
    await form.getByRole('button', { name: 'Create schedule' }).click();
    const row = page.getByRole('region', { name: 'Schedule of Nightly report' });
    await row.waitFor();
    const [created] = await schedules();
    expect(created).toMatchObject({ cron: '0 0 9 * * *', timezone: 'Europe/Paris', paused: false, input: { script: 'ok' } });
    // 9:00 in Paris, shown in the browser's zone (Paris too).
    expect(new Date(created.nextRunAt!).toLocaleTimeString('en-GB', { timeZone: 'Europe/Paris' })).toBe('09:00:00');
    await expect.poll(() => row.getByTestId('next-run').textContent()).toMatch(/^Next run: .*\b9:00:00/);
    await screenshot(page, '13-schedules');

    await row.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => row.getByTestId('next-run').textContent()).toBe('Paused.');
    expect((await schedules())[0]).toMatchObject({ paused: true, nextRunAt: null });
    await row.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => row.getByTestId('next-run').textContent()).toMatch(/^Next run:/);
    expect((await schedules())[0].paused).toBe(false);

    await row.getByRole('button', { name: 'Edit cron' }).click();
    await row.getByLabel('New cron expression').fill('0 30 9 * * 1-5');
    await row.getByRole('button', { name: 'Save cron' }).click();
    await expect.poll(() => row.getByRole('heading').textContent()).toContain('0 30 9 * * 1-5');
    const edited = (await schedules())[0];
    expect(edited.cron).toBe('0 30 9 * * 1-5');
    expect(new Date(edited.nextRunAt!).toLocaleTimeString('en-GB', { timeZone: 'Europe/Paris' })).toBe('09:30:00');

    await row.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No schedule yet.').waitFor();
    expect(await schedules()).toEqual([]);
  }, 120_000);
});
