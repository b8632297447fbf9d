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
    const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
      input: { templateSlug: 'offline-notes', input: { repository } },
    });
    expect(created.errors).toBeUndefined();
    const job = await waitForRuntimeJob(t, created.data.createJob.id, ['SUCCEEDED', 'FAILED']);
    expect(job.lastError).toBeNull();
    expect(job.state).toBe('SUCCEEDED');
    const [attempt] = job.attempts;
    expect(attempt.baseCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(attempt.guardrailResults).toContainEqual(expect.objectContaining({ name: 'check:notes-checked', passed: true }));
    expect(job.events.filter((e: any) => e.type === 'TOOL_CALL').map((e: any) => e.data.tool)).toEqual([
      'list_files',
      'read_file',
      'read_file',
      'write_file',
      'edit_file',
      'run_command',
    ]);
    // The sample's playbook (read first) names no 'Bug fixer': the generic script, notes read from the README.
    expect(
      job.events.filter((e: any) => e.type === 'TOOL_CALL' && e.data.tool === 'read_file').map((e: any) => JSON.parse(e.data.args).path),
    ).toEqual(['.autodev/offline-playbook.json', 'README.md']);

    const artifact = attempt.artifacts.find((a: any) => a.path === 'changes.patch');
    const patch = Buffer.from(await (await fetch(artifact.downloadUrl)).arrayBuffer());
    expect(patch.toString()).toContain('+++ b/AUTODEV_NOTES.md');
    const applied = await applyPatchAndRun(repository, attempt.baseCommit, patch, ['grep', 'Status: checked', 'AUTODEV_NOTES.md']);
    expect(applied.status).toBe(0);
  }, 90_000);

  it('refuses a local repository outside the permitted directories at createJob, and one that leads out through a link when the attempt starts', async () => {
    const outside = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
      input: { templateSlug: 'offline-notes', input: { repository: process.cwd() } },
    });
    expect(outside.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(outside.errors?.[0].message).toContain('AUTODEV_REPOSITORY_ROOTS');
    expect(
      (await t.gql(`{ jobs(first: 50) { edges { node { input } } } }`)).data.jobs.edges.map((e: any) => e.node.input.repository),
    ).not.toContain(process.cwd());

    // Inside the root as written, outside once resolved: only the runner (realpath) can tell.
    const link = path.join(t.app.services.config.sampleRepository, 'escape');
    await symlink(process.cwd(), link);
    try {
      const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
        input: { templateSlug: 'offline-notes', input: { repository: link } },
      });
      expect(created.errors).toBeUndefined();
      const job = await waitForRuntimeJob(t, created.data.createJob.id, ['SUCCEEDED', 'FAILED']);
      expect(job.state).toBe('FAILED');
      expect(job.attempts[0]).toMatchObject({ errorCode: 'WORKSPACE_REFUSED', baseCommit: null });
      expect(job.attempts[0].exitReason).toContain('AUTODEV_REPOSITORY_ROOTS');
    } finally {
      await unlink(link);
    }
  }, 60_000);

  /** Creates a job of a bundled template on the sample repository and waits for it to settle. */
  async function bundledJob(templateSlug: string, input: Record<string, unknown>) {
    const repository = t.app.services.config.sampleRepository;
    const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
      input: { templateSlug, input: { repository, ...input } },
    });
    expect(created.errors).toBeUndefined();
    const job = await waitForRuntimeJob(t, created.data.createJob.id, ['SUCCEEDED', 'FAILED', 'AWAITING_REVIEW'], 150_000);
    const patchOf = async (a: any) =>
      Buffer.from(await (await fetch(a.artifacts.find((x: any) => x.path === 'changes.patch').downloadUrl)).arrayBuffer());
    const commands = job.events
      .filter((e: any) => e.type === 'TOOL_RESULT' && e.data.tool === 'run_command')
      .map((e: any) => e.data.output as string);
    return { repository, job, patchOf, commands };
  }

  it("the bundled fix-failing-tests on the sample repository: the offline model follows the sample's playbook, fixes slugify through the tools, the tests it ran fail then pass, and the job awaits review with a patch that makes npm test pass and a passing check", async () => {
    const { repository, job, patchOf, commands } = await bundledJob('fix-failing-tests', {});
    expect(job.lastError).toBeNull();
    expect(job.state).toBe('AWAITING_REVIEW');
    expect(job.attempts).toHaveLength(1);
    const [attempt] = job.attempts;
    expect(attempt.guardrailResults).toContainEqual(expect.objectContaining({ name: 'check:test', passed: true }));
    expect(job.events.filter((e: any) => e.type === 'TOOL_CALL').map((e: any) => e.data.tool)).toEqual([
      'list_files',
      'read_file',
      'run_command',
      'read_file',
      'read_file',
      'edit_file',
      'run_command',
    ]);
    // Its first npm test failed (the sample's bug), its last passed.
    expect(commands).toHaveLength(2);
    expect(commands[0]).toContain('# fail 1');
    expect(commands[1]).toContain('# fail 0');
    const patch = await patchOf(attempt);
    expect(patch.toString()).toContain('+++ b/slugify.js');
    expect((await applyPatchAndRun(repository, attempt.baseCommit, Buffer.alloc(0), ['node', '--test'])).status).not.toBe(0);
    expect((await applyPatchAndRun(repository, attempt.baseCommit, patch, ['node', '--test'])).status).toBe(0);
  }, 150_000);

  it('the bundled implement-feature on the sample repository: plan (read-only tools), implement (edits slugify.js), test (adds a test file); the job awaits review with a passing npm test check and a patch with both files', async () => {
    const { repository, job, patchOf } = await bundledJob('implement-feature', {
      title: 'Collapse punctuation in slugs',
      specification: 'slugify turns every run of spaces and punctuation into one dash and trims dashes at both ends.',
      language: 'javascript',
    });
    expect(job.lastError).toBeNull();
    expect(job.state).toBe('AWAITING_REVIEW');
    const [attempt] = job.attempts;
    expect(attempt.guardrailResults).toContainEqual(expect.objectContaining({ name: 'check:test', passed: true }));
    const byTask = (task: string) =>
      job.events.filter((e: any) => e.type === 'TOOL_CALL' && e.data.task === task).map((e: any) => e.data.tool);
    expect(byTask('plan')).toEqual(['list_files', 'read_file', 'read_file']);
    expect(byTask('implement')).toEqual(['list_files', 'read_file', 'read_file', 'edit_file', 'run_command']);
    expect(byTask('test')).toEqual(['list_files', 'read_file', 'write_file', 'run_command']);
    expect(job.output.diffstat).toMatch(/slugify\.edge\.test\.js/);
    expect(job.output.files.map((f: any) => f.path).sort()).toEqual(['slugify.edge.test.js', 'slugify.js']);
    const applied = await applyPatchAndRun(repository, attempt.baseCommit, await patchOf(attempt), ['node', '--test']);
    expect(applied.status).toBe(0);
    expect(applied.output).toContain('# pass 5');
  }, 150_000);

  it("the bundled write-unit-tests on the sample repository: the test engineer adds a test file and its own tests pass, but npm test (the check) still fails on the sample's known bug, which tests must not fix: FAILED after its two attempts, each with the new file in its patch", async () => {
    const { job, patchOf, commands } = await bundledJob('write-unit-tests', { modulePath: 'slugify.js' });
    expect(job.state).toBe('FAILED');
    expect(job.attempts).toHaveLength(2);
    for (const a of job.attempts) {
      expect(a.errorCode).toBe('CHECK_FAILED');
      expect((await patchOf(a)).toString()).toContain('+++ b/slugify.cases.test.js');
      expect(a.guardrailResults).toContainEqual(
        expect.objectContaining({
          name: 'check:test',
          passed: false,
          message: expect.stringContaining('collapses runs of spaces and punctuation'),
        }),
      );
    }
    expect(commands).toHaveLength(2);
    for (const c of commands) expect(c).toContain('# fail 0');
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
