// CrewMonitor and the review queue for a crew on the agent runtime, in headless Chromium against a
// real server: worker, git workspace, tools, checks under bubblewrap. The model is the local
// OpenAI-compatible mock answering real tool_calls (each answer held 400 ms, so the run can be
// watched): attempt 1 makes a wrong fix and its `node --test` check fails; attempt 2 fixes the code.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { prepareSampleRepository, SAMPLE_TEST_COMMAND } from '../../server/examples/sample-repository.ts';
import { runtimeTemplate, upsertRuntimeTemplate } from '../../server/test/agent-runtime-fixtures.ts';
import { startTestServer, type TestServer } from '../../server/test/harness.ts';
import { nodesOf } from '../../server/test/job-lists.ts';
import { startOpenAiMockServer, type MockReply, type OpenAiMockServer } from '../../server/test/openai-mock-server.ts';
import { expectNoPageErrors, launchBrowser, screenshot } from './browser.ts';

const BUGGY = "return title.toLowerCase().replace(/ /g, '-');";
const WRONG = "return title.toLowerCase().replace(/ +/g, '-');";
const FIXED = "return title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');";

let t: TestServer;
let mock: OpenAiMockServer;
let browser: Browser;
let roots: string;
let repository: string;

beforeAll(async () => {
  roots = await mkdtemp(path.join(tmpdir(), 'autodev-monitor-'));
  repository = await prepareSampleRepository(path.join(roots, 'sample'));
  mock = await startOpenAiMockServer((req) => {
    const second = JSON.stringify(req.body.messages).includes('check:test');
    const turns = req.body.messages.filter((m) => m.role === 'tool').length;
    const script: MockReply[] = second
      ? [
          { toolCalls: [{ name: 'read_file', arguments: { path: 'slugify.js' } }] },
          { toolCalls: [{ name: 'edit_file', arguments: { path: 'slugify.js', oldText: BUGGY, newText: FIXED } }] },
          { toolCalls: [{ name: 'run_command', arguments: { command: 'node --test' } }] },
          { text: 'Every run of other characters is now one dash; the tests pass.' },
        ]
      : [
          { toolCalls: [{ name: 'read_file', arguments: { path: 'slugify.js' } }] },
          { toolCalls: [{ name: 'edit_file', arguments: { path: 'slugify.js', oldText: BUGGY, newText: WRONG } }] },
          { toolCalls: [{ name: 'write_file', arguments: { path: 'SCRATCH.txt', content: 'only in attempt 1\n' } }] },
          { toolCalls: [{ name: 'run_command', arguments: { command: 'node --test' } }] },
          { text: 'Runs of spaces are one dash now.' },
        ];
    return { ...script[Math.min(turns, script.length - 1)], delayMs: 400 };
  });
  t = await startTestServer({
    role: 'all',
    env: {
      AUTODEV_MODEL_PROVIDER: 'openai',
      AUTODEV_MODEL_BASE_URL: mock.baseUrl,
      AUTODEV_MODEL_API_KEY: 'sk-test-monitor',
      AUTODEV_REPOSITORY_ROOTS: roots,
      AUTODEV_RETRY_BASE_MS: '50',
    },
  });
  await upsertRuntimeTemplate(t, {
    ...runtimeTemplate({
      slug: 'fix-and-review',
      tools: ['read_file', 'write_file', 'edit_file', 'run_command'],
      checks: [{ name: 'test', command: SAMPLE_TEST_COMMAND, timeoutSeconds: 60 }],
      maxAttempts: 2,
    }),
    requiresReview: true,
  });
  browser = await launchBrowser();
}, 90_000);
afterEach(() => expectNoPageErrors());
afterAll(async () => {
  await browser?.close();
  await t?.close();
  await mock?.close();
  await rm(roots, { recursive: true, force: true });
});

async function signedIn(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${t.url}/#token=${t.adminToken}`);
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  return page;
}

const count = async (page: Page, testId: string) => Number(await page.getByTestId(testId).getAttribute('data-count'));

describe('CrewMonitor for a crew with tools, a patch and checks', () => {
  it('shows tool calls as they happen, filters the log by kind, renders the patch against the base and against attempt 1, and the checks; the review queue shows them too', async () => {
    const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
      input: { templateSlug: 'fix-and-review', input: { repository } },
    });
    expect(created.errors).toBeUndefined();
    const jobId = created.data.createJob.id as string;
    const page = await signedIn();
    await page.goto(`${t.url}/jobs/${jobId}`);

    // Live: the first call appears while the crew is still running, with its duration and sizes.
    const tools = page.getByRole('list', { name: 'Tool calls' });
    const firstRead = tools.locator('.tool-call[data-tool="read_file"]').first();
    await firstRead.waitFor({ timeout: 30_000 });
    expect(await page.locator('h1 .badge').getAttribute('data-state')).toBe('RUNNING');
    await expect.poll(() => firstRead.getAttribute('data-state')).toBe('ok');
    expect(await firstRead.locator('.tool-args').textContent()).toBe('slugify.js');
    expect(await firstRead.getByTestId('tool-duration').textContent()).toMatch(/^\d+ ms$|^\d+\.\d s$/);
    expect(await firstRead.locator('.tool-sizes').textContent()).toMatch(/^\d+ B in · \d+ B out$/);
    await screenshot(page, '20-monitor-tool-calls-live');

    await page.locator('h1 .badge[data-state="AWAITING_REVIEW"]').waitFor({ timeout: 60_000 });
    // Both attempts' calls, each run_command with its exit code: 1 (wrong fix), then 0.
    await expect.poll(() => count(page, 'tool-call-count')).toBe(7);
    const commands = tools.locator('.tool-call[data-tool="run_command"]');
    expect(await commands.locator('.tool-outcome').allTextContents()).toEqual(['exit 1', 'exit 0']);
    expect(await commands.nth(0).getAttribute('data-state')).toBe('failed');
    // Opening a call shows its arguments and its output.
    await commands.nth(0).locator('summary').click();
    await expect.poll(() => commands.nth(0).locator('.tool-output').textContent()).toMatch(/^Exit code 1\.[\s\S]*# fail 1/);

    // The log, filtered by kind, holds exactly the tool events the API has.
    const events = nodesOf<{ type: string; data: any }>(
      (await t.gql(`query($id: ID!) { job(id: $id) { events(first: 1000) { edges { node { type message data } } } } }`, { id: jobId })).data
        .job.events,
    );
    await page.getByLabel('Filter by kind').selectOption('tool');
    await expect.poll(() => count(page, 'log-count')).toBe(events.filter((e) => e.type === 'TOOL_CALL' || e.type === 'TOOL_RESULT').length);
    await page.getByLabel('Filter by kind').selectOption('check');
    await expect.poll(() => count(page, 'log-count')).toBe(events.filter((e) => e.type === 'GUARDRAIL' || e.data?.check).length);
    expect(await page.locator('.log-line .log-text').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Check test failed \(exit 1\)/), expect.stringMatching(/^Check test passed/)]),
    );
    await page.getByLabel('Filter by kind').selectOption('');

    // The patch of attempt 2 against the base commit: one file, the right fix.
    const changes = page.locator('[data-attempt-changes="2"]');
    const baseCommit = (await t.gql(`query($id: ID!) { job(id: $id) { attempt(number: 2) { baseCommit } } }`, { id: jobId })).data.job
      .attempt.baseCommit as string;
    await changes.getByRole('button', { name: `Against base commit ${baseCommit.slice(0, 10)}` }).waitFor();
    await expect.poll(() => changes.getByTestId('diff-summary').textContent()).toBe('1 file changed, +1 −1');
    const slug = changes.locator('figure[data-path="slugify.js"]');
    expect(await slug.locator('tr.diff-line.removed td.code').allTextContents()).toEqual([`-   ${BUGGY}`]);
    expect(await slug.locator('tr.diff-line.added td.code').allTextContents()).toEqual([`+   ${FIXED}`]);
    // Line numbers: the change is on line 3 of the file.
    expect(await slug.locator('tr.diff-line.added td.ln').allTextContents()).toEqual(['', '3']);
    // Against attempt 1: the wrong fix replaced, the scratch file gone.
    await changes.getByRole('button', { name: 'Since attempt 1' }).click();
    await expect.poll(() => changes.getByTestId('diff-summary').textContent()).toBe('2 files changed, +1 −2');
    expect(await changes.locator('figure[data-path="slugify.js"] tr.diff-line.removed td.code').allTextContents()).toEqual([
      `-   ${WRONG}`,
    ]);
    expect(await changes.locator('figure[data-path="SCRATCH.txt"] figcaption').textContent()).toContain('deleted');
    await changes.locator('figure[data-path="SCRATCH.txt"]').scrollIntoViewIfNeeded();
    // Attempt 1's own patch, chosen from the panel.
    await page.getByRole('combobox', { name: 'Changes of attempt', exact: true }).selectOption('1');
    await expect
      .poll(() => page.locator('[data-attempt-changes="1"]').getByTestId('diff-summary').textContent())
      .toBe('2 files changed, +2 −1');

    // The checks of each attempt: name, result, exit code, duration, the output's tail.
    const attempt1 = page.locator('[data-attempt="1"] table.checks tr[data-check="test"]');
    const attempt2 = page.locator('[data-attempt="2"] table.checks tr[data-check="test"]');
    expect(await attempt1.getByTestId('check-exit-code').textContent()).toBe('1');
    expect(await attempt1.locator('td').nth(1).textContent()).toBe('✗ failed');
    expect(await attempt1.locator('.check-output').textContent()).toContain('# fail 1');
    expect(await attempt1.locator('td').nth(3).textContent()).toMatch(/^\d+ ms$|^\d+\.\d s$/);
    expect(await attempt2.getByTestId('check-exit-code').textContent()).toBe('0');
    expect(await attempt2.locator('td').nth(1).textContent()).toBe('✓ passed');
    await page.getByRole('combobox', { name: 'Changes of attempt', exact: true }).selectOption('2');
    await screenshot(page, '21-monitor-patch-and-checks');

    // The review queue: the attempt's patch (and since attempt 1), and its checks.
    await page.getByRole('link', { name: 'Reviews' }).click();
    await page.getByText('1 waiting').waitFor();
    const review = page.getByRole('article', { name: 'Review' });
    const reviewChanges = review.locator('[data-attempt-changes="2"]');
    await expect.poll(() => reviewChanges.getByTestId('diff-summary').textContent()).toBe('1 file changed, +1 −1');
    await reviewChanges.getByRole('button', { name: 'Since attempt 1' }).click();
    await expect.poll(() => reviewChanges.getByTestId('diff-summary').textContent()).toBe('2 files changed, +1 −2');
    expect(await review.locator('table.checks tr[data-check="test"]').getByTestId('check-exit-code').textContent()).toBe('0');
    await screenshot(page, '22-review-queue-patch');

    // At phone width, long diff lines, tool calls and check output scroll inside their boxes, and a long
    // token in a check's failure wraps: the page never scrolls sideways (it did by 7-16 px before).
    await page.setViewportSize({ width: 390, height: 844 });
    for (const where of [`/jobs/${jobId}`, '/reviews']) {
      await page.goto(t.url + where);
      await page.getByTestId('diff-summary').first().waitFor();
      await page.locator('.tool-call[data-tool="run_command"] summary, table.checks details').first().waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `horizontal overflow on ${where}`).toBeLessThanOrEqual(0);
    }
    await screenshot(page, '23-phone-monitor-patch');
    await page.context().close();
  }, 150_000);
});
