import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/harness.ts';
import { jobWithLists } from '../../server/test/job-lists.ts';
import { expectNoPageErrors, launchBrowser, screenshot } from './browser.ts';
import { startDropProxy } from './drop-proxy.ts';

// The web app in headless Chromium against a real server: API, worker, local executor, the
// runner in child processes with the offline model provider (each model call takes
// AUTODEV_OFFLINE_DELAY_MS so that a run can be watched while it happens). The bundled
// implement-feature crew runs on the agent runtime against the sample repository the server
// prepared, as a new user's first job does.

let t: TestServer;
let browser: Browser;

beforeAll(async () => {
  t = await startTestServer({ role: 'all', env: { AUTODEV_OFFLINE_DELAY_MS: '700', AUTODEV_WORKER_CONCURRENCY: '4' } });
  FEATURE.repository = t.app.services.config.sampleRepository;
  browser = await launchBrowser();
});
afterEach(() => expectNoPageErrors());
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

async function signedIn(token = t.adminToken, viewport = { width: 1280, height: 900 }, base = t.url): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(`${base}/#token=${token}`);
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  return page;
}

const FEATURE = {
  repository: '', // the sample repository, once the server has prepared it
  title: 'Punctuation in slugs',
  specification: 'slugify turns every run of spaces and punctuation into one dash and trims dashes at both ends.',
};

async function createJobByApi(
  input: Record<string, unknown> = { ...FEATURE, title: `Job ${Math.random().toString(36).slice(2, 8)}` },
  templateSlug = 'implement-feature',
) {
  const r = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, { input: { templateSlug, input } });
  expect(r.errors).toBeUndefined();
  return r.data.createJob.id as string;
}

async function jobEvents(id: string) {
  const r = await t.gql(`query($id: ID!) { job(id: $id) { state events(first: 1000) { edges { node { seq type } } } } }`, { id });
  return jobWithLists(r.data.job) as { state: string; events: { seq: number; type: string }[] };
}

describe('the web app in a real browser', { timeout: 240_000 }, () => {
  it('signs in with a pasted token, and refuses a wrong one with the server’s message', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(t.url + '/');
    await page.getByLabel('API token').fill('not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/token/i);
    await screenshot(page, '01-sign-in-error');
    await page.getByLabel('API token').fill(t.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    await page.getByText('No jobs yet.').waitFor();
    await screenshot(page, '02-jobs-empty');
    // The token survives a reload (local storage), and signing out forgets it.
    await page.reload();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').waitFor();
    await page.close();
  });

  it('launches a job from a template form (validation first), watches it live to review, requests changes, approves, sees SUCCEEDED', async () => {
    const page = await signedIn();
    await page.getByRole('link', { name: 'New job' }).first().click();
    const card = page.locator('[data-template="implement-feature"]');
    await card.locator('dt', { hasText: 'Review' }).waitFor();
    await expect.poll(() => card.textContent()).toContain('3 agents, 3 tasks');
    await screenshot(page, '03-templates');
    await card.getByRole('link', { name: 'Use this template' }).click();

    // Submitting the empty form shows the schema's errors and creates nothing.
    await page.getByRole('button', { name: 'Launch job' }).click();
    await expect.poll(() => page.locator('.errors, .panel-danger').first().textContent()).toMatch(/required/i);
    await screenshot(page, '04-form-validation');
    expect((await t.gql('{ jobs(first: 5) { edges { node { id } } } }')).data.jobs.edges).toHaveLength(0);

    await page.getByLabel('Repository').fill(FEATURE.repository);
    await page.getByLabel('Title').fill(FEATURE.title);
    await page.getByLabel('Specification').fill('too short');
    await page.getByRole('button', { name: 'Launch job' }).click();
    await expect.poll(() => page.locator('.errors, .panel-danger').first().textContent()).toMatch(/20 characters/);
    await page.getByLabel('Specification').fill(FEATURE.specification);
    // A double click launches one job (one idempotency key per form visit).
    await page.getByRole('button', { name: 'Launch job' }).dblclick();
    await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/);
    const jobId = page.url().split('/').at(-1)!;

    // Live: logs and cost appear while the crew runs.
    await page.locator('.badge[data-state="RUNNING"]').first().waitFor();
    await expect
      .poll(async () => Number(await page.getByTestId('log-count').getAttribute('data-count')), { timeout: 15_000 })
      .toBeGreaterThan(3);
    await expect.poll(() => page.getByTestId('job-cost').textContent(), { timeout: 15_000 }).not.toBe('$0');
    expect(await page.locator('h1 .badge').getAttribute('data-state')).toBe('RUNNING');
    await screenshot(page, '05-monitor-running');
    await page.locator('h1 .badge[data-state="AWAITING_REVIEW"]').waitFor({ timeout: 90_000 });
    await page.locator('.guardrails li').first().waitFor();
    await expect.poll(() => page.locator('.task[data-status="done"]').count()).toBe(3);
    await screenshot(page, '06-monitor-awaiting-review');
    const jobs = (await t.gql('{ jobs(first: 5) { edges { node { id } } } }')).data.jobs.edges;
    expect(jobs.map((e: any) => e.node.id)).toEqual([jobId]);

    // The review queue: request changes; the crew runs a second attempt with the feedback.
    await page.getByRole('link', { name: 'Reviews' }).click();
    await page.getByText('1 waiting').waitFor();
    await page.getByText('Changes').first().waitFor();
    await page.locator('.diff').first().waitFor();
    await screenshot(page, '07-review-queue');
    await page.getByLabel('Request changes').check();
    await page.getByLabel('What the crew should change').fill('Also handle a title of only punctuation.');
    await page.getByRole('button', { name: 'Request changes' }).click();
    await page.getByText('Nothing to review.').waitFor();

    await page.goto(`${t.url}/jobs/${jobId}`);
    await page.locator('[data-attempt="2"]').waitFor({ timeout: 15_000 });
    await page.locator('h1 .badge[data-state="AWAITING_REVIEW"]').waitFor({ timeout: 90_000 });
    await page.locator('[data-attempt="2"]').getByText('Also handle a title of only punctuation.').waitFor();
    await page.getByText('changes since attempt 1').waitFor();
    await screenshot(page, '08-monitor-second-attempt');

    // Approve from the queue; the job ends SUCCEEDED.
    await page.getByRole('link', { name: 'Reviews' }).click();
    await page.getByText('1 waiting').waitFor();
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('Nothing to review.').waitFor();
    await page.goto(`${t.url}/jobs/${jobId}`);
    await page.locator('h1 .badge[data-state="SUCCEEDED"]').waitFor();
    expect((await jobEvents(jobId)).state).toBe('SUCCEEDED');
    await screenshot(page, '09-monitor-succeeded');
    await page.context().close();
  });

  it('cancels a running job from the CrewMonitor', async () => {
    const jobId = await createJobByApi();
    const page = await signedIn();
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${t.url}/jobs/${jobId}`);
    await page.locator('h1 .badge[data-state="RUNNING"]').waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await page.locator('h1 .badge[data-state="CANCELLED"]').waitFor({ timeout: 15_000 });
    await expect.poll(async () => (await jobEvents(jobId)).state).toBe('CANCELLED');
    await expect(page.getByRole('button', { name: 'Cancel job' }).count()).resolves.toBe(0);
    await page.context().close();
  });

  it('a token revoked while its CrewMonitor is open signs the page out with the server’s sentence, and it stops asking', async () => {
    const jobId = await createJobByApi();
    const created = await t.gql(
      `mutation { createApiToken(input: { name: "revoked-while-watching", role: VIEWER }) { secret token { id } } }`,
    );
    const { secret, token } = created.data.createApiToken;
    const page = await signedIn(secret);
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    await page.goto(`${t.url}/jobs/${jobId}`);
    await page.locator('[data-stream="live"]').waitFor({ timeout: 15_000 });
    const revoked = await t.gql(`mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: token.id });
    expect(revoked.data.revokeApiToken).toBe(true);
    await page.getByLabel('API token').waitFor({ timeout: 10_000 });
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('The API token has been revoked.');
    // Before: the stream resubscribed every second with the dead token, for as long as the page stayed open.
    const opened = sockets.length;
    await new Promise((r) => setTimeout(r, 3000));
    expect(sockets.length).toBe(opened);
    await page.context().close();
  });

  it('a reload in the middle of a run loses no log line and doubles none', async () => {
    const jobId = await createJobByApi();
    const page = await signedIn();
    await page.goto(`${t.url}/jobs/${jobId}`);
    await expect
      .poll(async () => Number(await page.getByTestId('log-count').getAttribute('data-count')), { timeout: 15_000 })
      .toBeGreaterThan(2);
    expect(await page.locator('h1 .badge').getAttribute('data-state')).toBe('RUNNING');
    await page.reload();
    await page.locator('h1 .badge[data-state="AWAITING_REVIEW"]').waitFor({ timeout: 90_000 });
    const stored = await jobEvents(jobId);
    await expect.poll(async () => Number(await page.getByTestId('log-count').getAttribute('data-count'))).toBe(stored.events.length);
    expect(Number(await page.getByTestId('log-count').getAttribute('data-last-seq'))).toBe(stored.events.at(-1)!.seq);
    // Every rendered line is a distinct seq.
    const seqs = await page.locator('.log-line').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
    expect(new Set(seqs).size).toBe(seqs.length);
    // Filters: one agent's lines only, then warnings only (the offline crew logs none).
    await page.getByLabel('Filter by agent').selectOption('tech_lead');
    await expect
      .poll(async () => Number(await page.getByTestId('log-count').getAttribute('data-count')))
      .toBeLessThan(stored.events.length);
    const actors = await page.locator('.log-actor').allTextContents();
    expect(actors.length).toBeGreaterThan(0);
    expect(new Set(actors)).toEqual(new Set(['tech_lead']));
    await page.getByLabel('Filter by agent').selectOption('');
    await page.getByLabel('Filter by level').selectOption('warn');
    await expect.poll(async () => Number(await page.getByTestId('log-count').getAttribute('data-count'))).toBe(0);
    await page.context().close();
  });

  it('a dropped connection mid-run resumes after the last event: nothing lost, nothing doubled', async () => {
    const proxy = await startDropProxy(t.url);
    try {
      const jobId = await createJobByApi();
      const page = await signedIn(t.adminToken, undefined, proxy.url);
      // Every jobEvents subscription the page sends, with its afterSeq.
      const subscribes: number[] = [];
      page.on('websocket', (ws) =>
        ws.on('framesent', ({ payload }) => {
          const m = JSON.parse(String(payload));
          if (m.type === 'subscribe' && /jobEvents/.test(m.payload.query)) subscribes.push(m.payload.variables.afterSeq);
        }),
      );
      await page.goto(`${proxy.url}/jobs/${jobId}`);
      const count = async () => Number(await page.getByTestId('log-count').getAttribute('data-count'));
      const lastSeq = async () => Number(await page.getByTestId('log-count').getAttribute('data-last-seq'));
      await expect.poll(count, { timeout: 15_000 }).toBeGreaterThan(2);
      for (let drop = 0; drop < 2; drop++) {
        if (drop > 0 && (await page.locator('h1 .badge').getAttribute('data-state')) !== 'RUNNING') break;
        const before = await count();
        const heldSeq = await lastSeq();
        const sent = subscribes.length;
        expect(proxy.dropAll()).toBeGreaterThan(0);
        await expect.poll(count, { timeout: 15_000 }).toBeGreaterThan(before);
        // It resubscribed after what it held, not from the start. (Frames reach the test through
        // the DevTools protocol, possibly after the page has already rendered new lines.)
        await expect.poll(() => subscribes.length, { timeout: 15_000 }).toBeGreaterThan(sent);
        for (const afterSeq of subscribes.slice(sent)) expect(afterSeq).toBeGreaterThanOrEqual(heldSeq);
      }
      expect(subscribes[0]).toBe(0);
      await page.locator('h1 .badge[data-state="AWAITING_REVIEW"]').waitFor({ timeout: 90_000 });
      const stored = await jobEvents(jobId);
      await expect.poll(count).toBe(stored.events.length);
      expect(Number(await page.getByTestId('log-count').getAttribute('data-last-seq'))).toBe(stored.events.at(-1)!.seq);
      expect(await page.locator('[data-stream]').getAttribute('data-stream')).toBe('live');
      await page.context().close();
    } finally {
      await proxy.close();
    }
  });

  it('the review queue updates live when someone else decides', async () => {
    const jobId = await createJobByApi();
    const page = await signedIn();
    await page.goto(`${t.url}/reviews`);
    await page.locator('h1', { hasText: 'Review queue' }).waitFor();
    await expect
      .poll(async () => (await t.gql(`query($id: ID!) { job(id: $id) { state } }`, { id: jobId })).data.job.state, { timeout: 90_000 })
      .toBe('AWAITING_REVIEW');
    const reviews = (await t.gql('{ reviews(status: PENDING, first: 50) { edges { node { id job { id } } } } }')).data.reviews.edges.map(
      (e: any) => e.node,
    );
    const review = reviews.find((r: any) => r.job.id === jobId);
    await page.locator(`[data-review="${review.id}"]`).waitFor({ timeout: 10_000 });
    const waiting = reviews.length;
    await page.getByText(`${waiting} waiting`).waitFor();
    const other = await t.token('REVIEWER');
    const r = await t.gql(`mutation($id: ID!) { rejectReview(id: $id, comment: "Out of scope") { status } }`, { id: review.id }, other);
    expect(r.data.rejectReview.status).toBe('REJECTED');
    await page.locator(`[data-review="${review.id}"]`).waitFor({ state: 'detached', timeout: 10_000 });
    await page.getByText(waiting - 1 ? `${waiting - 1} waiting` : 'Nothing to review.').waitFor();
    await page.context().close();
  });

  it('the jobs list updates live, and a viewer is offered no launch, cancel or approve', async () => {
    const viewer = await t.token('VIEWER');
    const page = await signedIn(viewer);
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    // Wait for the list to show every existing job before adding one.
    const before = (await t.gql('{ jobs(first: 50) { edges { node { id } } } }')).data.jobs.edges.length;
    await expect.poll(() => page.locator('tr[data-job]').count()).toBe(before);
    const jobId = await createJobByApi();
    await page.locator(`tr[data-job="${jobId}"]`).waitFor({ timeout: 10_000 });
    await expect.poll(() => page.locator('tr[data-job]').count()).toBe(before + 1);
    await page.locator(`tr[data-job="${jobId}"] .badge[data-state="AWAITING_REVIEW"]`).waitFor({ timeout: 90_000 });
    await screenshot(page, '10-jobs-list');

    await page.goto(`${t.url}/jobs/${jobId}`);
    await page.getByText('Waiting for a reviewer').waitFor();
    expect(await page.getByRole('button', { name: 'Cancel job' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    await page.goto(`${t.url}/templates/implement-feature`);
    await page.getByText('launching a job needs an operator').waitFor();
    expect(await page.getByRole('button', { name: 'Launch job' }).isDisabled()).toBe(true);
    await page.context().close();
  });

  it('shows budgets: set a limit, spend against it, and spend by model and template', async () => {
    // Spend of its own (an implement-feature run charges gpt-4o models), not the earlier tests'.
    const jobId = await createJobByApi();
    await expect.poll(async () => (await jobEvents(jobId)).state, { timeout: 90_000 }).toBe('AWAITING_REVIEW');
    const page = await signedIn();
    await page.getByRole('link', { name: 'Budgets' }).click();
    await page.getByLabel('Limit (USD)').fill('25');
    await page.getByRole('button', { name: 'Set budget' }).click();
    await expect.poll(() => page.getByTestId('budget').textContent()).toContain('of $25.00');
    await page.getByText('By model').waitFor();
    await page.getByText('By template').waitFor();
    const legend = await page.locator('.legend').first().textContent();
    expect(legend).toMatch(/gpt-4o/);
    await screenshot(page, '11-budgets');
    await page.context().close();
  });

  it('shows array fields’ Add, Move and Remove buttons with their names, and they work, also at phone width', async () => {
    for (const viewport of [
      { width: 1280, height: 900 },
      { width: 390, height: 844 },
    ]) {
      const page = await signedIn(t.adminToken, viewport);
      await page.goto(`${t.url}/templates/implement-feature`);
      const add = page.getByRole('button', { name: 'Add Item' });
      await add.waitFor();
      // Empty before: a glyphicon in a font the app does not load, so no text and no visible mark.
      expect((await add.innerText()).trim()).toMatch(/Add Item/);
      expect((await add.boundingBox())!.width).toBeGreaterThan(40);
      await add.click();
      await add.click();
      const items = page.locator('.rjsf-array-item');
      await expect.poll(() => items.count()).toBe(2);
      await items.nth(0).locator('input').fill('first');
      await items.nth(1).locator('input').fill('second');
      for (const name of ['Remove', 'Move up', 'Move down']) {
        const button = items.nth(1).getByRole('button', { name });
        expect((await button.innerText()).trim(), name).toContain(name);
        expect((await button.boundingBox())!.width, name).toBeGreaterThan(20);
      }
      await screenshot(page, `04b-form-array-items-${viewport.width}`);
      await items.nth(1).getByRole('button', { name: 'Move up' }).click();
      await expect.poll(() => items.nth(0).locator('input').inputValue()).toBe('second');
      await items.nth(0).getByRole('button', { name: 'Remove' }).click();
      await expect.poll(() => items.count()).toBe(1);
      expect(await items.nth(0).locator('input').inputValue()).toBe('first');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `horizontal overflow at ${viewport.width} px`).toBeLessThanOrEqual(0);
      await page.context().close();
    }
  });

  it('is usable at phone width (no sideways scrolling) and by keyboard', async () => {
    const page = await signedIn(t.adminToken, { width: 390, height: 844 });
    for (const path of ['/', '/templates', '/reviews', '/budgets']) {
      await page.goto(t.url + path);
      await page.locator('main h1').waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `horizontal overflow on ${path}`).toBeLessThanOrEqual(0);
    }
    await screenshot(page, '12-phone-budgets');
    // Keyboard: Tab to "New job" in the navigation and follow it with Enter.
    await page.goto(t.url + '/');
    await page.locator('main h1').waitFor();
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate(() => document.activeElement?.textContent)) === 'New job') break;
    }
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'New job' }).waitFor();
    await page.context().close();
  });
});
