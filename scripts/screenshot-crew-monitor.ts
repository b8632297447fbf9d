// Takes docs/screenshots/12-monitor-agent-runtime.png: a real run of the bundled fix-failing-tests
// crew on the offline model against the sample repository, as `npm start` sets them up, seen in
// the same headless Chromium the browser tests use. Start the server first (`npm start`), then:
//   npx tsx scripts/screenshot-crew-monitor.ts http://localhost:4000 adv_…   (the admin token it printed)
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [
  url = 'http://localhost:4000',
  token = (await readFile(path.join(process.env.AUTODEV_DATA_DIR || '.data', 'admin-token'), 'utf8')).trim(),
] = process.argv.slice(2);
const out = path.resolve('docs/screenshots/12-monitor-agent-runtime.png');

async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors || !body.data) throw new Error(body.errors?.map((e) => e.message).join('; ') ?? `HTTP ${res.status}`);
  return body.data;
}

// The sample repository npm start prepared (the template's own default input).
const repository = path.resolve(process.env.AUTODEV_DATA_DIR || '.data', 'sample-repo');
const { createJob } = await gql<{ createJob: { id: string } }>(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
  input: { templateSlug: 'fix-failing-tests', input: { repository } },
});
console.log(`job ${createJob.id}`);
for (
  let state = '';
  !['SUCCEEDED', 'FAILED', 'AWAITING_REVIEW', 'CANCELLED', 'BUDGET_EXCEEDED'].includes(state);
  await new Promise((r) => setTimeout(r, 500))
) {
  state = (await gql<{ job: { state: string } }>(`query($id: ID!) { job(id: $id) { state } }`, { id: createJob.id })).job.state;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1500 } });
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${url}/#token=${token}`);
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  await page.goto(`${url}/jobs/${createJob.id}`);
  await page.getByTestId('diff-summary').first().waitFor();
  // Open the test run, so its exit code and output show.
  await page.locator('.tool-call[data-tool="run_command"] summary').last().click();
  await page.getByRole('heading', { name: 'Changes' }).scrollIntoViewIfNeeded();
  await page.evaluate(() => window.scrollBy(0, -12));
  await page.screenshot({ path: out });
  if (errors.length) throw new Error(`the page logged errors: ${errors.join('\n')}`);
  console.log(`saved ${out}`);
} finally {
  await browser.close();
}
