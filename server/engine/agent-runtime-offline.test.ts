// Offline stays real: with no model configured, a crew on the agent runtime goes through the same
// tool path (the deterministic offline model lists, reads, writes, edits and runs a command in a
// real clone), produces a real patch, and its check runs under bubblewrap.
import { symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPatchAndRun, runtimeTemplate, upsertRuntimeTemplate, waitForRuntimeJob } from '../test/agent-runtime-fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';

let t: TestServer;
const logLines: string[] = [];
beforeAll(async () => {
  t = await startTestServer({ role: 'all', logLines });
  await upsertRuntimeTemplate(
    t,
    runtimeTemplate({
      slug: 'offline-notes',
      tools: ['list_files', 'read_file', 'write_file', 'edit_file', 'run_command'],
      checks: [{ name: 'notes-checked', command: 'grep -q "Status: checked" AUTODEV_NOTES.md' }],
    }),
  );
}, 60_000);
afterAll(async () => {
  await t?.close();
});

describe('the offline provider on the agent runtime', () => {
  it('the worker says at start that commands and checks can run sandboxed, with the bubblewrap version', async () => {
    for (let i = 0; i < 100 && !logLines.some((l) => l.includes('sandbox available')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(logLines.find((l) => l.includes('sandbox available for commands and checks'))).toMatch(/bubblewrap 0\.\d+/);
  });

  it('clones the sample repository the server prepared, edits it through the tools and ends with a real patch and a check that ran', async () => {
    const repository = t.app.services.config.sampleRepository;
    const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, { input: { templateSlug: 'offline-notes', input: { repository } } });
    expect(created.errors).toBeUndefined();
    const job = await waitForRuntimeJob(t, created.data.createJob.id, ['SUCCEEDED', 'FAILED']);
    expect(job.lastError).toBeNull();
    expect(job.state).toBe('SUCCEEDED');
    const [attempt] = job.attempts;
    expect(attempt.baseCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(attempt.guardrailResults).toContainEqual(expect.objectContaining({ name: 'check:notes-checked', passed: true }));
    expect(job.events.filter((e: any) => e.type === 'TOOL_CALL').map((e: any) => e.data.tool)).toEqual(['list_files', 'read_file', 'write_file', 'edit_file', 'run_command']);

    const artifact = attempt.artifacts.find((a: any) => a.path === 'changes.patch');
    const patch = Buffer.from(await (await fetch(artifact.downloadUrl)).arrayBuffer());
    expect(patch.toString()).toContain('+++ b/AUTODEV_NOTES.md');
    const applied = await applyPatchAndRun(repository, attempt.baseCommit, patch, ['grep', 'Status: checked', 'AUTODEV_NOTES.md']);
    expect(applied.status).toBe(0);
  }, 90_000);

  it('refuses a local repository outside the permitted directories at createJob, and one that leads out through a link when the attempt starts', async () => {
    const outside = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, { input: { templateSlug: 'offline-notes', input: { repository: process.cwd() } } });
    expect(outside.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(outside.errors?.[0].message).toContain('AUTODEV_REPOSITORY_ROOTS');
    expect((await t.gql(`{ jobs(first: 50) { edges { node { input } } } }`)).data.jobs.edges.map((e: any) => e.node.input.repository)).not.toContain(process.cwd());

    // Inside the root as written, outside once resolved: only the runner (realpath) can tell.
    const link = path.join(t.app.services.config.sampleRepository, 'escape');
    await symlink(process.cwd(), link);
    try {
      const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, { input: { templateSlug: 'offline-notes', input: { repository: link } } });
      expect(created.errors).toBeUndefined();
      const job = await waitForRuntimeJob(t, created.data.createJob.id, ['SUCCEEDED', 'FAILED']);
      expect(job.state).toBe('FAILED');
      expect(job.attempts[0]).toMatchObject({ errorCode: 'WORKSPACE_REFUSED', baseCommit: null });
      expect(job.attempts[0].exitReason).toContain('AUTODEV_REPOSITORY_ROOTS');
    } finally {
      await unlink(link);
    }
  }, 60_000);

  it('the bundled fix-failing-tests on the sample repository: the offline model cannot fix code, so npm test fails on each attempt and the job fails after its two attempts, each keeping its patch and the check output', async () => {
    const repository = t.app.services.config.sampleRepository;
    const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, { input: { templateSlug: 'fix-failing-tests', input: { repository } } });
    expect(created.errors).toBeUndefined();
    const job = await waitForRuntimeJob(t, created.data.createJob.id, ['SUCCEEDED', 'FAILED', 'AWAITING_REVIEW'], 120_000);
    expect(job.state).toBe('FAILED');
    expect(job.attempts).toHaveLength(2);
    for (const a of job.attempts) {
      expect(a.errorCode).toBe('CHECK_FAILED');
      expect(a.artifacts.map((x: any) => x.path)).toContain('changes.patch');
      expect(a.guardrailResults).toContainEqual(expect.objectContaining({ name: 'check:test', passed: false, message: expect.stringContaining('# fail 1') }));
    }
  }, 150_000);

  it('upsertTemplate refuses an unknown tool and an undeclared placeholder with BAD_USER_INPUT naming the agent and the placeholder', async () => {
    const template = runtimeTemplate({ slug: 'bad-tools', tools: ['read_file', 'shell'], checks: [] });
    template.crew.tasks[0].description = 'Fix {ticket}.';
    const res = await t.gql(`mutation($input: TemplateInput!) { upsertTemplate(input: $input) { slug } }`, { input: template });
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toContain('grants agent `dev` the unknown tool `shell`');
    expect(res.errors?.[0].message).toContain('`{ticket}`');
    expect((await t.gql(`{ template(slug: "bad-tools") { slug } }`)).data.template).toBeNull();
  });
});
