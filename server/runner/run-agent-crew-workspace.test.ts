// The agent runtime's workspace settings from the template, through runAgentCrew with real git and
// real bubblewrap: the commands' network, the changed files beside changes.patch, and the push of
// the result to a branch (a local bare repository; a smart-HTTP remote that wants a token).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunnerEvent } from '../runner-protocol/parse-runner-output.ts';
import { prepareSampleRepository } from '../examples/sample-repository.ts';
import { startGitHttpServer } from '../test/git-http-server.ts';
import { createOfflineModel } from './agents/offline-model.ts';
import { runAgentCrew } from './run-agent-crew.ts';
import { sandboxAvailable } from './sandbox/sandbox-available.ts';
import type { RunnerSpec } from './spec.ts';

let root: string;
let repository: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'autodev-crew-ws-'));
  repository = await prepareSampleRepository(path.join(root, 'sample'));
  const sandbox = await sandboxAvailable();
  if (!sandbox.ok) throw new Error(`These tests need the sandbox: ${sandbox.reason}`);
});
afterAll(() => rm(root, { recursive: true, force: true }));

function spec(over: Partial<RunnerSpec> = {}): RunnerSpec {
  return {
    jobId: 'job-1',
    attempt: 1,
    template: { slug: 't', version: 1 },
    crew: {
      process: 'sequential',
      agents: [
        {
          id: 'dev',
          role: 'Engineer',
          goal: 'g',
          backstory: 'b',
          model: 'offline',
          tools: ['list_files', 'read_file', 'write_file', 'edit_file'],
        },
      ],
      tasks: [{ id: 'work', description: 'Look around', expectedOutput: 'notes', agent: 'dev' }],
    },
    input: {},
    outputSchema: {},
    feedback: null,
    provider: { kind: 'offline' },
    workspace: { repository, localRoots: [root] },
    ...over,
  };
}

async function run(s: RunnerSpec, env: NodeJS.ProcessEnv = {}) {
  const events: RunnerEvent[] = [];
  const workspaceDir = path.join(await mkdtemp(path.join(root, 'attempt-')), 'workspace');
  const outcome = await runAgentCrew(s, { workspaceDir, modelFor: (name) => createOfflineModel(name), env }, (e) => void events.push(e));
  return { outcome, events, workspaceDir, result: (events.find((e) => e.type === 'result') as any)?.output };
}

const git = (args: string[], cwd?: string) =>
  execFileSync('git', args, { cwd, env: { PATH: process.env.PATH, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' } })
    .toString()
    .trim();

describe('the commands’ network (template workspace.network)', () => {
  it('a check cannot reach a port on 127.0.0.1 by default, and can when the spec gives the host network', async () => {
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const probe = `node -e "require('net').connect(${port},'127.0.0.1').on('connect',()=>{console.log('CONNECTED');process.exit(0)}).on('error',(e)=>{console.log('REFUSED '+e.code);process.exit(3)})"`;
    try {
      const closed = await run(spec({ checks: [{ name: 'reach', command: probe, timeoutSeconds: 30 }] }));
      expect(closed.events.find((e) => e.type === 'check_result')).toMatchObject({
        passed: false,
        exitCode: 3,
        output: expect.stringContaining('REFUSED ECONNREFUSED'),
      });
      expect(closed.outcome).toBe('error');
      expect(connections).toBe(0);

      const open = await run(
        spec({ checks: [{ name: 'reach', command: probe, timeoutSeconds: 30 }], sandbox: { network: true, isolation: 'bubblewrap' } }),
      );
      expect(open.events.find((e) => e.type === 'check_result')).toMatchObject({
        passed: true,
        output: expect.stringContaining('CONNECTED'),
      });
      expect(open.outcome).toBe('result');
      expect(connections).toBe(1);
    } finally {
      server.close();
    }
  }, 60_000);
});

describe('the changed files beside changes.patch', () => {
  it('each changed file is an artifact files/<path> with its whole content', async () => {
    const r = await run(spec());
    const artifacts = r.events.filter((e): e is Extract<RunnerEvent, { type: 'artifact' }> => e.type === 'artifact');
    expect(artifacts.map((a) => a.path)).toEqual(['changes.patch', 'files/AUTODEV_NOTES.md']);
    const notes = artifacts[1];
    expect(notes).toMatchObject({ encoding: 'utf8', contentType: 'text/plain; charset=utf-8' });
    expect(notes.content).toBe(git(['show', 'HEAD:AUTODEV_NOTES.md'], r.workspaceDir) + '\n');
    expect(r.result.diffstat).toContain('AUTODEV_NOTES.md');
  }, 30_000);

  it('stay within the artifacts the job may still store (one kept for the patch), and say which were left out', async () => {
    const r = await run(spec({ artifactRoom: 1 }));
    expect(r.events.filter((e) => e.type === 'artifact').map((e: any) => e.path)).toEqual(['changes.patch']);
    expect(r.events).toContainEqual(
      expect.objectContaining({
        type: 'log',
        message: expect.stringContaining('AUTODEV_NOTES.md (over the 0 files this attempt may store)'),
      }),
    );
  }, 30_000);
});

describe('pushing the result to a branch (template workspace.push)', () => {
  it('pushes the result to the branch of the job’s repository (a local bare repository) after the checks pass', async () => {
    const bare = path.join(root, 'pushed.git');
    git(['clone', '-q', '--bare', repository, bare]);
    const r = await run(
      spec({
        workspace: { repository: bare, localRoots: [root], push: { branch: 'autodev/job-1' } },
        checks: [{ name: 'ok', command: 'true' }],
      }),
    );
    expect(r.outcome).toBe('result');
    const pushed = git(['rev-parse', 'refs/heads/autodev/job-1'], bare);
    expect(r.result.push).toEqual({ remote: bare, branch: 'autodev/job-1', commit: pushed });
    // The branch holds exactly the change the patch describes, on top of the base commit.
    expect(git(['rev-parse', `${pushed}~1`], bare)).toBe(r.result.baseCommit);
    expect(git(['diff', '--name-only', r.result.baseCommit, pushed], bare)).toBe('AUTODEV_NOTES.md');
  }, 30_000);

  it('does not push when a check fails', async () => {
    const bare = path.join(root, 'not-pushed.git');
    git(['clone', '-q', '--bare', repository, bare]);
    const r = await run(
      spec({
        workspace: { repository: bare, localRoots: [root], push: { branch: 'autodev/job-1' } },
        checks: [{ name: 'no', command: 'false' }],
      }),
    );
    expect(r.events.at(-1)).toMatchObject({ type: 'error', code: 'CHECK_FAILED' });
    expect(() => git(['rev-parse', '--verify', '-q', 'refs/heads/autodev/job-1'], bare)).toThrow();
  }, 30_000);

  it('refuses a local remote outside the allowed roots before anything runs (WORKSPACE_REFUSED)', async () => {
    const r = await run(spec({ workspace: { repository, localRoots: [root], push: { remote: '/var/tmp/elsewhere.git', branch: 'b' } } }));
    expect(r.events).toEqual([expect.objectContaining({ type: 'error', code: 'WORKSPACE_REFUSED', retryable: false })]);
  });

  it('pushes to a private https remote with a token by reference: the remote saw it, no event carries it', async () => {
    const token = 'ghp_pushTokenNeverInEvents_9f8e7d6c5b4a';
    const served = path.join(root, 'served');
    git(['clone', '-q', '--bare', repository, path.join(served, 'private.git')]);
    const server = await startGitHttpServer(served, token);
    try {
      const url = `${server.url}/private.git`;
      const r = await run(
        spec({
          workspace: {
            repository: url,
            credentialsEnv: 'TEST_GIT_TOKEN',
            push: { branch: 'autodev/private', credentialsEnv: 'TEST_GIT_TOKEN' },
          },
        }),
        { TEST_GIT_TOKEN: token },
      );
      expect(r.outcome).toBe('result');
      expect(r.result.push).toMatchObject({ remote: url, branch: 'autodev/private' });
      expect(git(['rev-parse', 'refs/heads/autodev/private'], path.join(served, 'private.git'))).toBe(r.result.push.commit);
      const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
      expect(server.seenAuthorization).toContain(`Basic ${basic}`);
      const everything = JSON.stringify(r.events);
      expect(everything).not.toContain(token);
      expect(everything).not.toContain(basic);

      // A wrong token: the push fails retryably and the message names neither token.
      const wrong = await run(
        spec({ workspace: { repository, localRoots: [root], push: { remote: url, branch: 'b', credentialsEnv: 'TEST_GIT_TOKEN' } } }),
        { TEST_GIT_TOKEN: 'wrong-token-0123456789' },
      );
      expect(wrong.events.at(-1)).toMatchObject({ type: 'error', code: 'WORKSPACE_PUSH_FAILED', retryable: true });
      expect(JSON.stringify(wrong.events)).not.toContain('wrong-token-0123456789');
    } finally {
      await server.close();
    }
  }, 60_000);
});
