// The Webhooks page in headless Chromium against a real server (API and worker): an ADMIN creates an
// endpoint (the secret shown once), a job's events are delivered to a local receiver that verifies
// them with that secret, the delivery log shows them, Redeliver sends one again under the same
// webhook-id, and the endpoint is disabled, rotated and deleted from the page.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/harness.ts';
import { addScriptedTemplates, createScriptedJob, SCRIPTED_RUNNER_COMMAND, waitForJob } from '../../server/test/scripted.ts';
import { expectNoPageErrors, launchBrowser, screenshot } from './browser.ts';

let t: TestServer;
let browser: Browser;
let receiver: http.Server;
let hookUrl: string;
const received: { body: string; headers: Record<string, string> }[] = [];

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const h = req.headers;
      received.push({
        body: Buffer.concat(chunks).toString('utf8'),
        headers: {
          'webhook-id': String(h['webhook-id']),
          'webhook-timestamp': String(h['webhook-timestamp']),
          'webhook-signature': String(h['webhook-signature']),
        },
      });
      res.writeHead(204).end();
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  t = await startTestServer({
    role: 'all',
    env: { AUTODEV_RUNNER_COMMAND: SCRIPTED_RUNNER_COMMAND, AUTODEV_WEBHOOK_ALLOW_PRIVATE: 'true' },
  });
  await addScriptedTemplates(t);
  browser = await launchBrowser();
}, 180_000);
afterEach(() => expectNoPageErrors());
afterAll(async () => {
  await browser?.close();
  await t?.close();
  await new Promise((r) => receiver?.close(r));
});

describe('the Webhooks page', () => {
  it('creates an endpoint, shows its delivery log, redelivers with the same webhook-id, disables, rotates and deletes it', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    await page.goto(`${t.url}/#token=${t.adminToken}`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.getByText('No endpoints yet.').waitFor();

    await page.getByLabel('URL').fill(hookUrl);
    await page.getByLabel('Description').fill('CI');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    const secret = (await page.getByTestId('webhook-secret').textContent()) ?? '';
    expect(secret).toMatch(/^whsec_/);
    const endpoint = page.getByRole('region', { name: `Endpoint ${hookUrl}` });
    await endpoint.waitFor();

    const jobId = await createScriptedJob(t, 'ok');
    await waitForJob(t, jobId, ['SUCCEEDED']);
    await expect.poll(() => received.length, { timeout: 30_000 }).toBe(2); // QUEUED → RUNNING → SUCCEEDED
    for (const r of received)
      expect(new Webhook(secret).verify(r.body, r.headers)).toMatchObject({ type: 'job.state_changed', data: { jobId } });

    const rows = endpoint.getByRole('table', { name: 'Deliveries' }).locator('tbody tr');
    await expect
      .poll(async () => {
        await page.getByRole('button', { name: 'Refresh' }).click();
        return rows.count();
      })
      .toBe(2);
    await expect.poll(() => rows.first().textContent()).toMatch(/JOB_STATE_CHANGEDSUCCEEDED204\d+ ms1/);
    const first = rows.first();
    const webhookId = await first.getAttribute('title');
    await first.getByRole('button', { name: 'Redeliver' }).click();
    await expect.poll(() => received.length, { timeout: 30_000 }).toBe(3);
    expect(received[2].headers['webhook-id']).toBe(webhookId);
    await expect
      .poll(async () => {
        await page.getByRole('button', { name: 'Refresh' }).click();
        return (await rows.first().locator('td').nth(5).textContent()) ?? '';
      })
      .toBe('2');
    await screenshot(page, 'webhooks');

    await endpoint.getByRole('button', { name: 'Disable' }).click();
    await endpoint.getByText('disabled', { exact: true }).waitFor();
    await endpoint.getByRole('button', { name: 'Rotate secret' }).click();
    await expect.poll(() => page.getByTestId('webhook-secret').textContent()).not.toBe(secret);
    await endpoint.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No endpoints yet.').waitFor();
    expect((await t.gql('{ webhookEndpoints { id } }')).data.webhookEndpoints).toEqual([]);
    await context.close();
  }, 120_000);
});
