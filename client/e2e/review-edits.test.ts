// Reviewer decisions beyond approve/reject, in headless Chromium against a real server (API, worker,
// reference runner with the offline model): request changes from a chosen task, and approve an
// edited output that the server checks against the template's output schema.
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/harness.ts';
import { upsertTemplate, waitForJob } from '../../server/test/scripted.ts';
import { expectNoPageErrors, launchBrowser, screenshot } from './browser.ts';

let t: TestServer;
let browser: Browser;

beforeAll(async () => {
  t = await startTestServer({ role: 'all', env: { AUTODEV_VALIDATION_TIMEOUT_MS: '30000' } });
  await upsertTemplate(t.gql, {
    slug: 'reviewed-summary',
    name: 'Reviewed summary',
    description: 'Plans, then writes a summary a person reviews',
    requiresReview: true,
    crew: {
      process: 'sequential',
      agents: [{ id: 'writer', role: 'Writer', goal: 'Summarise', backstory: 'Terse.', model: 'gpt-4o-mini' }],
      tasks: [
        { id: 'plan', description: 'Plan the summary', expectedOutput: 'A plan', agent: 'writer' },
        { id: 'write', description: 'Write the summary', expectedOutput: 'The summary', agent: 'writer' },
      ],
    },
    inputSchema: { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] },
    outputSchema: { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'], additionalProperties: false },
  });
  browser = await launchBrowser();
}, 90_000);
afterEach(() => expectNoPageErrors());
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

async function signedIn(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  await page.goto(`${t.url}/#token=${t.adminToken}`);
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  return page;
}

const tasksStarted = (job: { events: { type: string; data: { task?: string } }[] }) =>
  job.events.filter((e) => e.type === 'TASK_STARTED').map((e) => e.data.task);

describe('reviewer decisions in the web app', () => {
  it('requests changes from a chosen task, then approves an edited output after the server refused one that breaks the schema', async () => {
    const created = await t.gql(
      `mutation { createJob(input: { templateSlug: "reviewed-summary", input: { topic: "release notes" } }) { id } }`,
    );
    const jobId = (created.data as { createJob: { id: string } }).createJob.id;
    expect((await waitForJob(t, jobId, ['AWAITING_REVIEW', 'FAILED'], 60_000)).state).toBe('AWAITING_REVIEW');

    const page = await signedIn();
    await page.getByRole('link', { name: 'Reviews' }).click();
    const review = page.getByRole('article', { name: 'Review' });
    await review.waitFor();
    await review.getByLabel('Request changes').check();
    // The default is the crew's last task; choose the first, so both run again.
    expect(await review.getByLabel('Run again from task').inputValue()).toBe('write');
    await review.getByLabel('Run again from task').selectOption('plan');
    await review.getByLabel('What the crew should change').fill('Start from the user-facing changes.');
    await review.getByRole('button', { name: 'Request changes' }).click();
    await page.getByText('Nothing to review.').waitFor();
    const again = await waitForJob(t, jobId, ['AWAITING_REVIEW', 'FAILED'], 60_000);
    expect(again.state).toBe('AWAITING_REVIEW');
    expect(tasksStarted(again)).toEqual(['plan', 'write', 'plan', 'write']);

    await review.waitFor({ timeout: 30_000 });
    await review.getByLabel('Edit the output before approving').check();
    const editor = review.getByLabel(/Edited output/);
    const pending = await t.gql(`query($id: ID!) { job(id: $id) { review { output } } }`, { id: jobId });
    expect(JSON.parse(await editor.inputValue())).toEqual((pending.data as { job: { review: { output: unknown } } }).job.review.output);
    // Not JSON: said in the page, nothing sent.
    await editor.fill('{ "summary": ');
    await review.getByRole('button', { name: 'Approve the edited output' }).click();
    await expect.poll(() => review.getByRole('alert').textContent()).toMatch(/not valid JSON/);
    // JSON that breaks the output schema: the server's violations, and the job still waits.
    await editor.fill('{ "summary": 3 }');
    await review.getByRole('button', { name: 'Approve the edited output' }).click();
    await expect.poll(() => review.getByRole('alert').textContent()).toMatch(/summary/);
    expect((await waitForJob(t, jobId, ['AWAITING_REVIEW'], 5_000)).state).toBe('AWAITING_REVIEW');
    await editor.fill('{ "summary": "Edited by the reviewer." }');
    await screenshot(page, '23-review-edit');
    await review.getByRole('button', { name: 'Approve the edited output' }).click();
    await page.getByText('Nothing to review.').waitFor();

    const done = await waitForJob(t, jobId, ['SUCCEEDED', 'FAILED'], 30_000);
    expect(done.state).toBe('SUCCEEDED');
    expect(done.output).toEqual({ summary: 'Edited by the reviewer.' });
    const { data } = await t.gql(`query($id: ID!) { job(id: $id) { review { status editedOutput decidedBy } } }`, { id: jobId });
    expect((data as { job: { review: unknown } }).job.review).toMatchObject({
      status: 'APPROVED',
      editedOutput: { summary: 'Edited by the reviewer.' },
    });
    await page.context().close();
  }, 180_000);
});
