// A live, interruptible crew in headless Chromium against a real server and worker: CrewMonitor
// shows the model's text while it is streamed (the OpenAI-protocol mock writes 7 characters every
// 15 ms), then the question the plan task asks; the Input queue shows it too and takes the answer;
// the job resumes after the plan and CrewMonitor follows it to SUCCEEDED; the build task's prompt
// carries the answer.
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/harness.ts';
import { startOpenAiMockServer, type OpenAiMockServer } from '../../server/test/openai-mock-server.ts';
import { upsertTemplate } from '../../server/test/scripted.ts';
import { expectNoPageErrors, launchBrowser, screenshot } from './browser.ts';

const PLAN = Array.from({ length: 40 }, (_, i) => `Step ${i + 1} of the plan.`).join(' ');
let t: TestServer;
let mock: OpenAiMockServer;
let browser: Browser;

// The plan is written only once CrewMonitor is watching the running job: a page that opened late
// (a loaded machine) would otherwise join mid-step and show the plan from the middle.
let releasePlan!: () => void;
const planReleased = new Promise<void>((resolve) => (releasePlan = resolve));

const promptOf = (body: { messages: { content: string | null }[] }) => body.messages.map((m) => m.content ?? '').join('\n');

beforeAll(async () => {
  mock = await startOpenAiMockServer((req) =>
    promptOf(req.body).includes('Current task: Plan')
      ? { text: PLAN, holdUntil: planReleased, chunkDelayMs: 15 }
      : { text: 'Built as planned, with the answer in mind.', delayMs: 300 },
  );
  t = await startTestServer({
    role: 'all',
    env: {
      AUTODEV_MODEL_PROVIDER: 'openai',
      AUTODEV_MODEL_BASE_URL: mock.baseUrl,
      AUTODEV_MODEL_STREAM: '1',
      AUTODEV_VALIDATION_TIMEOUT_MS: '30000',
    },
  });
  await upsertTemplate(t.gql, {
    slug: 'plan-ask-build',
    name: 'Plan, ask, build',
    description: 'Plans, asks a person, builds',
    workspace: { repositoryField: 'repository' },
    crew: {
      process: 'sequential',
      agents: [{ id: 'lead', role: 'Tech lead', goal: 'Plan and build', backstory: 'Careful.', model: 'claude-haiku-4-5', tools: [] }],
      tasks: [
        {
          id: 'plan',
          description: 'Plan {title}',
          expectedOutput: 'A plan',
          agent: 'lead',
          question: 'Which database should {title} use?',
        },
        { id: 'build', description: 'Build {title}', expectedOutput: 'A summary', agent: 'lead' },
      ],
    },
    inputSchema: { type: 'object', properties: { repository: { type: 'string' }, title: { type: 'string' } }, required: ['title'] },
    outputSchema: { type: 'object' },
    timeoutSeconds: 120,
  });
  browser = await launchBrowser();
}, 90_000);
afterEach(() => expectNoPageErrors());
afterAll(async () => {
  await browser?.close();
  await t?.close();
  await mock?.close();
});

async function signedIn(path: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${t.url}/#token=${t.adminToken}`);
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  await page.evaluate((p) => {
    history.pushState(null, '', p);
    dispatchEvent(new PopStateEvent('popstate'));
  }, path);
  return page;
}

describe('a crew that streams its text and asks a person', () => {
  it('CrewMonitor shows the text as it is written and the question; the Input queue takes the answer; the job resumes to SUCCEEDED', async () => {
    const created = await t.gql(
      `mutation { createJob(input: { templateSlug: "plan-ask-build", input: { title: "the orders service" } }) { id } }`,
    );
    expect(created.errors).toBeUndefined();
    const jobId = created.data.createJob.id as string;
    const monitor = await signedIn(`/jobs/${jobId}`);
    await monitor.locator('h1 .badge[data-state="RUNNING"]').waitFor({ timeout: 30_000 });
    releasePlan();

    // While the plan is written: part of it on screen, not yet the whole.
    const live = monitor.getByTestId('live-text').first();
    await live.waitFor({ timeout: 30_000 });
    const partial = await live.textContent();
    expect(partial!.length).toBeGreaterThan(0);
    expect(PLAN.startsWith(partial!)).toBe(true);
    expect(partial!.length).toBeLessThan(PLAN.length);
    await screenshot(monitor, '20-monitor-streaming');
    // The step ends: the stored message replaces the deltas.
    await expect.poll(() => live.getAttribute('data-done'), { timeout: 30_000 }).toBe('true');
    expect(await live.textContent()).toBe(PLAN);

    // The question, live in CrewMonitor.
    await expect
      .poll(
        () =>
          monitor
            .getByTestId('question')
            .textContent()
            .catch(() => null),
        { timeout: 30_000 },
      )
      .toBe('Which database should the orders service use?');
    await screenshot(monitor, '21-monitor-question');

    // The Input queue lists it and takes the answer.
    const queue = await signedIn('/inputs');
    await expect.poll(() => queue.getByTestId('input-count').textContent(), { timeout: 15_000 }).toBe('1 waiting');
    await queue.getByLabel('Your answer').fill('PostgreSQL, with one schema per tenant.');
    await screenshot(queue, '22-input-queue');
    await queue.getByRole('button', { name: 'Send answer and resume' }).click();
    await expect.poll(() => queue.getByTestId('input-count').textContent(), { timeout: 15_000 }).toBe('0 waiting');

    // CrewMonitor follows the resumed job to the end without a reload.
    await expect
      .poll(async () => (await t.gql(`query($id: ID!) { job(id: $id) { state lastError } }`, { id: jobId })).data.job, { timeout: 60_000 })
      .toEqual({ state: 'SUCCEEDED', lastError: null });
    await monitor.locator('h1 [data-state="SUCCEEDED"]').waitFor({ timeout: 60_000 });
    await screenshot(monitor, '23-monitor-resumed');
    const build = mock.requests.find((r) => promptOf(r.body).includes('Current task: Build'))!;
    expect(promptOf(build.body)).toContain('Human input on task "plan":\nPostgreSQL, with one schema per tenant.');
    expect(mock.requests.filter((r) => promptOf(r.body).includes('Current task: Plan'))).toHaveLength(1);
  }, 180_000);
});
