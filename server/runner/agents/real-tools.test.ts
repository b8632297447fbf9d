import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAiMockServer } from '../../test/openai-mock-server.ts';
import { buildTools, TOOL_NAMES } from '../tools/index.ts';
import { cloneWorkspace } from '../workspace/clone-workspace.ts';
import { diffAgainst } from '../workspace/diff-against.ts';
import type { AgentEvent } from './agent-events.ts';
import { OFFLINE_NOTES_PATH } from './offline-model.ts';
import { resolveModel } from './resolve-model.ts';
import { runAgentTask } from './run-agent-task.ts';

// The loop with the real tools on a real git workspace; run_command goes through bubblewrap.
let root: string;
let origin: string;
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd }).toString();

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'autodev-agent-'));
  origin = path.join(root, 'origin');
  execFileSync('mkdir', ['-p', origin]);
  git(origin, 'init', '-q', '-b', 'main');
  writeFileSync(path.join(origin, 'README.md'), '# Answer\nThe answer module.\n');
  writeFileSync(path.join(origin, 'lib.js'), 'export const answer = 41;\n');
  git(origin, 'add', '-A');
  git(origin, 'commit', '-q', '-m', 'base');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function workspace(name: string) {
  const dir = path.join(root, name);
  const base = await cloneWorkspace({ repository: origin, dir });
  return { dir, base };
}

const toolContext = (dir: string) => ({ workspaceDir: dir, sandbox: { timeoutMs: 20_000, maxOutputBytes: 64 * 1024, network: false } });
const agent = { id: 'dev', role: 'Developer', goal: 'Make {title} true', backstory: 'Careful.', tools: TOOL_NAMES };
const task = { id: 'fix', description: 'Make {title} true', expectedOutput: 'A summary' };

describe('the agent loop with the real tools', () => {
  it('the offline model lists, reads, writes, edits and runs a sandboxed command in a git workspace, leaving a patch', async () => {
    const { dir, base } = await workspace('offline');
    const events: AgentEvent[] = [];
    const outcome = await runAgentTask({
      agent: { ...agent, model: 'offline' },
      task,
      input: { title: 'the answer' },
      context: [],
      tools: buildTools(TOOL_NAMES),
      toolContext: toolContext(dir),
      model: resolveModel('offline'),
      emit: (e) => void events.push(e),
    });
    expect(outcome).toMatchObject({ status: 'completed', steps: 6 });
    const results = events.filter((e) => e.type === 'tool_result');
    expect(results.map((e) => [e.tool, e.ok])).toEqual([
      ['list_files', true],
      ['read_file', true],
      ['write_file', true],
      ['edit_file', true],
      ['run_command', true],
    ]);
    expect(results[0].output.split('\n').sort()).toEqual(['README.md', 'lib.js']);
    expect(results[4].output).toBe(`Exit code 0.\n${OFFLINE_NOTES_PATH}\nREADME.md\nlib.js\n`);
    const diff = await diffAgainst(dir, base);
    expect(diff.files).toEqual([{ path: OFFLINE_NOTES_PATH, added: expect.any(Number), deleted: 0 }]);
    expect(diff.patch.toString()).toContain('+Status: checked');
  });

  it('a model over HTTP (streamed) edits a file and checks it with a sandboxed command; the patch applies on the base commit', async () => {
    const { dir, base } = await workspace('http');
    const mock = await startOpenAiMockServer([
      { toolCalls: [{ name: 'read_file', arguments: { path: 'lib.js' } }] },
      // An edit that changes the size: diffAgainst misses a same-size edit made in the clone's
      // second about one run in six (its copied index loses git's racy-timestamp protection).
      { toolCalls: [{ name: 'edit_file', arguments: { path: 'lib.js', oldText: '41;', newText: '42; // fixed' } }] },
      { toolCalls: [{ name: 'run_command', arguments: { command: 'grep -c "answer = 42" lib.js' } }] },
      { text: 'The answer is 42 now.' },
    ]);
    try {
      const events: AgentEvent[] = [];
      const outcome = await runAgentTask({
        agent: { ...agent, model: 'mock:coder' },
        task,
        input: { title: 'the answer' },
        context: [],
        tools: buildTools(TOOL_NAMES),
        toolContext: toolContext(dir),
        model: resolveModel('mock:coder', { providers: { mock: { baseUrl: mock.baseUrl } } }, {}),
        emit: (e) => void events.push(e),
        stream: true,
        maxRetries: 0,
      });
      expect(outcome).toMatchObject({ status: 'completed', text: 'The answer is 42 now.', steps: 4 });
      expect(mock.requests[0].body.tools?.map((t) => t.function.name)).toEqual(TOOL_NAMES);
      const results = events.filter((e) => e.type === 'tool_result');
      expect(results.map((e) => e.ok)).toEqual([true, true, true]);
      // What the model read back after the command.
      expect(results[2].output).toBe('Exit code 0.\n1\n');
      expect(mock.requests[3].body.messages.at(-1)?.content).toBe('Exit code 0.\n1\n');

      const diff = await diffAgainst(dir, base);
      expect(diff.files).toEqual([{ path: 'lib.js', added: 1, deleted: 1 }]);
      const check = path.join(root, 'apply-check');
      git(root, 'clone', '-q', origin, check);
      git(check, 'checkout', '-q', base);
      execFileSync('git', ['apply', '-'], { cwd: check, input: diff.patch });
      expect(readFileSync(path.join(check, 'lib.js'), 'utf8')).toBe('export const answer = 42; // fixed\n');
    } finally {
      await mock.close();
    }
  });
});
