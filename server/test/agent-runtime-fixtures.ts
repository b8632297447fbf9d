// Shared by the agent-runtime end-to-end tests: a template on the runtime (tools, workspace,
// checks) and a way to check that an attempt's changes.patch applies on its base commit.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestServer } from './harness.ts';
import { jobWithLists } from './job-lists.ts';

export function runtimeTemplate(opts: {
  slug: string;
  tools: string[];
  checks: { name: string; command: string; timeoutSeconds?: number }[];
  maxAttempts?: number;
}) {
  return {
    slug: opts.slug,
    name: 'Fix the failing tests',
    maxAttempts: opts.maxAttempts ?? 1,
    timeoutSeconds: 120,
    workspace: { repositoryField: 'repository', refField: 'ref' },
    checks: opts.checks,
    crew: {
      process: 'sequential',
      agents: [
        {
          id: 'dev',
          role: 'Bug fixer',
          goal: 'Make the tests of {repository} pass.',
          backstory: 'You fix bugs with small changes.',
          model: 'gpt-4o-mini',
          tools: opts.tools,
        },
      ],
      tasks: [
        {
          id: 'fix',
          description: 'Find why the tests fail and fix the code. {instructions}',
          expectedOutput: 'What was wrong and what you changed.',
          agent: 'dev',
        },
      ],
    },
    inputSchema: {
      type: 'object',
      required: ['repository'],
      properties: { repository: { type: 'string' }, ref: { type: 'string' }, instructions: { type: 'string' } },
    },
    outputSchema: { type: 'object', required: ['summary', 'diffstat', 'checks'] },
  };
}

export async function upsertRuntimeTemplate(t: TestServer, template: object) {
  const res = await t.gql(`mutation($input: TemplateInput!) { upsertTemplate(input: $input) { slug workspace checks } }`, {
    input: template,
  });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data.upsertTemplate;
}

export const RUNTIME_JOB = /* GraphQL */ `
  query ($id: ID!) {
    job(id: $id) {
      id
      state
      output
      lastError
      costUsd
      attempts(first: 100) {
        edges {
          node {
            number
            state
            errorCode
            exitReason
            baseCommit
            guardrailResults
            artifacts {
              path
              downloadUrl
            }
          }
        }
      }
      events {
        edges {
          node {
            type
            message
            data
          }
        }
      }
    }
  }
`;

export async function waitForRuntimeJob(t: TestServer, id: string, states: string[], timeoutMs = 60_000): Promise<any> {
  const started = Date.now();
  for (;;) {
    const job = jobWithLists((await t.gql(RUNTIME_JOB, { id })).data?.job);
    if (job && states.includes(job.state)) return job;
    if (Date.now() - started > timeoutMs)
      throw new Error(`job ${id} did not reach ${states.join(', ')} in ${timeoutMs} ms: ${JSON.stringify(job).slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/**
 * Clones `repository` at `baseCommit` into a fresh directory, applies the patch with `git apply`
 * (when not empty) and runs `command` there; returns its exit status and output. Throws when the patch does not apply.
 */
export async function applyPatchAndRun(
  repository: string,
  baseCommit: string,
  patch: Buffer,
  command: string[],
): Promise<{ status: number; output: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'autodev-apply-'));
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: dir, stdio: 'pipe', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' } });
    git('clone', '-q', repository, '.');
    git('checkout', '-q', '--detach', baseCommit);
    if (patch.length) {
      await writeFile(path.join(dir, '.changes.patch'), patch);
      git('apply', '.changes.patch');
      await rm(path.join(dir, '.changes.patch'));
    }
    try {
      const output = execFileSync(command[0], command.slice(1), { cwd: dir, stdio: 'pipe', timeout: 30_000 }).toString();
      return { status: 0, output };
    } catch (err) {
      const e = err as { status: number; stdout: Buffer; stderr: Buffer };
      return { status: e.status ?? -1, output: `${e.stdout.toString()}${e.stderr.toString()}` };
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
