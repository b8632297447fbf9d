// A worker killed with SIGKILL during task 3 of 4: the job's next attempt, on another worker
// process, starts at task 3 from the checkpoints of tasks 1-2, which are neither run nor charged
// again. Worker processes run `server/main.ts` with the reference runner; the model is a local
// server speaking OpenAI's protocol that holds task 3's first answer until the worker is gone.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../test/database.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { startOpenAiMockServer, type OpenAiMockServer, type ReceivedRequest } from '../test/openai-mock-server.ts';
import { upsertTemplate, waitForJob } from '../test/scripted.ts';

const LEASE_MS = 2000;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let api: TestServer;
let model: OpenAiMockServer;
let dataDir: string;
const workers: ChildProcess[] = [];

const TASKS = ['one', 'two', 'three', 'four'];
const taskOf = (r: ReceivedRequest) => /Current task: Step (\w+)/.exec(r.body.messages.map((m) => m.content).join('\n'))?.[1];

function startWorkerProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: {
      ...process.env,
      AUTODEV_ROLE: 'worker',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      AUTODEV_DATA_DIR: dataDir,
      AUTODEV_SIGNING_KEY: 'test-signing-key',
      AUTODEV_MODEL_PROVIDER: 'openai',
      AUTODEV_MODEL_BASE_URL: model.baseUrl,
      AUTODEV_ATTEMPT_LEASE_MS: String(LEASE_MS),
      AUTODEV_RETRY_BASE_MS: '100',
      // Seeding checks the bundled templates' schemas at start: a loaded test machine needs more than 2 s.
      AUTODEV_VALIDATION_TIMEOUT_MS: '30000',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  workers.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker not ready: ${out}`)), 60_000);
    const on = (d: Buffer) => {
      out += d.toString();
      if (/worker is running/.test(out)) {
        clearTimeout(timer);
        resolve(child);
      } else if (/failed to start/.test(out)) {
        clearTimeout(timer);
        reject(new Error(`worker did not start: ${out}`));
      }
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
  });
}

/** Runner processes of a job (their spec path names it): the killed worker's runner lives on, orphaned. */
async function killRunnersOf(jobId: string) {
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(jobId)) process.kill(Number(pid), 'SIGKILL');
  }
}

beforeAll(async () => {
  let heldThree = false;
  model = await startOpenAiMockServer((req) => {
    const task = taskOf(req);
    // Task three's first request is held for two minutes: the worker running it is killed meanwhile.
    if (task === 'three' && !heldThree) {
      heldThree = true;
      return { text: 'never delivered', delayMs: 120_000 };
    }
    if (req.body.response_format)
      return { text: JSON.stringify({ summary: `all ${TASKS.length} steps done` }), usage: { promptTokens: 1000, completionTokens: 100 } };
    return { text: `Result of step ${task}.`, usage: { promptTokens: 1000, completionTokens: 100 } };
  });
  db = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'autodev-resume-'));
  api = await startTestServer({ databaseUrl: db.url, role: 'api', env: { AUTODEV_VALIDATION_TIMEOUT_MS: '30000' } });
  await upsertTemplate(api.gql, {
    slug: 'four-steps',
    name: 'Four steps',
    description: 'Four tasks in a row',
    crew: {
      process: 'sequential',
      agents: [{ id: 'worker', role: 'Worker', goal: 'Do the steps', backstory: 'Steady.', model: 'claude-haiku-4-5' }],
      tasks: TASKS.map((id) => ({ id, description: `Step ${id}`, expectedOutput: `The result of step ${id}`, agent: 'worker' })),
    },
    inputSchema: { type: 'object', properties: { title: { type: 'string' } } },
    outputSchema: { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] },
    maxAttempts: 3,
    timeoutSeconds: 300,
  });
}, 120_000);
afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  await api?.close();
  await model?.close();
  await db?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('a worker killed during task 3 of 4', () => {
  it('resumes at task 3 on another worker; tasks 1-2 ran once and were charged once', async () => {
    const first = await startWorkerProcess();
    const created = await api.gql(`mutation { createJob(input: { templateSlug: "four-steps", input: { title: "resume" } }) { id } }`);
    const id = created.data.createJob.id as string;
    await expect
      .poll(
        async () =>
          (await waitForJob(api, id, ['RUNNING', 'QUEUED'])).events.some((e: any) => e.type === 'TASK_STARTED' && e.data.task === 'three'),
        { timeout: 60_000, interval: 100 },
      )
      .toBe(true);
    first.kill('SIGKILL');
    await killRunnersOf(id);
    await startWorkerProcess();
    const job = await waitForJob(api, id, ['SUCCEEDED', 'FAILED'], 90_000);
    expect(job.state).toBe('SUCCEEDED');
    expect(job.output).toEqual({ summary: 'all 4 steps done' });
    expect(job.attempts.map((a: any) => [a.number, a.state, a.errorCode])).toEqual([
      [1, 'LOST', 'WORKER_LOST'],
      [2, 'SUCCEEDED', null],
    ]);
    const started = job.events.filter((e: any) => e.type === 'TASK_STARTED').map((e: any) => `${e.data.task}`);
    expect(started).toEqual(['one', 'two', 'three', 'three', 'four']);
    const { rows: usage } = await api.app.services.pool.query(
      `SELECT u.task, a.number, u."costUsd"::float AS cost FROM "UsageRecord" u JOIN "JobAttempt" a ON a.id = u."attemptId" WHERE u."jobId" = $1 ORDER BY u."createdAt"`,
      [id],
    );
    expect(usage.map((u) => [u.task, u.number])).toEqual([
      ['one', 1],
      ['two', 1],
      ['three', 2],
      ['four', 2],
    ]);
    // Charged for exactly the four calls that were answered: 4 × (1000 in × $1 + 100 out × $5) per million.
    expect(job.costUsd).toBeCloseTo(4 * 0.0015, 8);
    const { rows: checkpoints } = await api.app.services.pool.query(
      `SELECT task, "attemptNumber", "costUsd"::float AS cost FROM "TaskCheckpoint" WHERE "jobId" = $1 ORDER BY id`,
      [id],
    );
    expect(checkpoints).toEqual(TASKS.map((task, i) => ({ task, attemptNumber: i < 2 ? 1 : 2, cost: 0.0015 })));
    // The model saw task three twice (the held request, then the resumed one), the others once.
    expect(model.requests.map(taskOf)).toEqual(['one', 'two', 'three', 'three', 'four']);
    expect(job.events.some((e: any) => e.type === 'LOG' && e.message.startsWith('Resuming from checkpoints: one, two reused'))).toBe(true);
  }, 240_000);
});
