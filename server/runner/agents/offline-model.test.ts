import { describe, expect, it } from 'vitest';
import { compile } from '../../json-schema/ajv.ts';
import { createFakeTools } from '../../test/fake-tools.ts';
import type { AgentEvent } from './agent-events.ts';
import { OFFLINE_COMMAND, OFFLINE_NOTES_PATH, OFFLINE_PLAYBOOK_PATH } from './offline-model.ts';
import { resolveModel } from './resolve-model.ts';
import { runAgentTask, type RunAgentTaskOptions } from './run-agent-task.ts';

const ALL_TOOLS = ['list_files', 'read_file', 'write_file', 'edit_file', 'search', 'run_command'];
const OUTPUT_SCHEMA = {
  type: 'object',
  required: ['summary', 'changedFiles'],
  additionalProperties: false,
  properties: { summary: { type: 'string', minLength: 10 }, changedFiles: { type: 'array', minItems: 1, items: { type: 'string' } } },
};

async function runOffline(over: Partial<RunAgentTaskOptions> & { grant?: string[]; extraFiles?: [string, string][] } = {}) {
  const files = new Map([
    ['src/cart.ts', 'export const total = 0;\n'],
    ['README.md', '# Shop\nA small shop.\n'],
    ['docs/', ''],
    ...(over.extraFiles ?? []),
  ]);
  const events: AgentEvent[] = [];
  const tools = createFakeTools(files).filter((t) => (over.grant ?? ALL_TOOLS).includes(t.name));
  const outcome = await runAgentTask({
    agent: { id: 'dev', role: 'Developer', goal: 'Fix {title}', backstory: 'Careful.', model: 'offline', tools: tools.map((t) => t.name) },
    task: { id: 'fix', description: 'Fix {title}', expectedOutput: 'A summary' },
    input: { title: 'the cart total' },
    context: [],
    tools,
    toolContext: { workspaceDir: '/nowhere', sandbox: { timeoutMs: 1000, maxOutputBytes: 1000, network: false } },
    model: resolveModel('offline'),
    emit: (e) => void events.push(e),
    ...over,
  });
  return { outcome, events, files };
}

const calls = (events: AgentEvent[]) => events.flatMap((e) => (e.type === 'tool_call' ? [{ tool: e.tool, args: JSON.parse(e.args) }] : []));

describe('the offline model', () => {
  for (const stream of [false, true]) {
    it(`drives the loop through every granted tool, then answers (${stream ? 'streaming' : 'non-streaming'})`, async () => {
      const { outcome, events, files } = await runOffline({ stream });
      expect(calls(events)).toEqual([
        { tool: 'list_files', args: {} },
        { tool: 'read_file', args: { path: 'README.md' } },
        { tool: 'write_file', args: { path: OFFLINE_NOTES_PATH, content: expect.stringContaining('Task: Fix the cart total') } },
        { tool: 'edit_file', args: { path: OFFLINE_NOTES_PATH, oldText: 'Status: draft', newText: 'Status: checked' } },
        { tool: 'run_command', args: { command: OFFLINE_COMMAND } },
      ]);
      expect(events.filter((e) => e.type === 'tool_result').every((e) => e.type === 'tool_result' && e.ok)).toBe(true);
      expect(files.get(OFFLINE_NOTES_PATH)).toContain('Read: README.md (starts with: # Shop)');
      expect(files.get(OFFLINE_NOTES_PATH)).toContain('Status: checked');
      expect(outcome).toMatchObject({
        status: 'completed',
        steps: 6,
        text: expect.stringContaining('Offline answer for "Fix the cart total"'),
      });
      // Every step is charged, at about four characters a token.
      const usage = events.filter((e) => e.type === 'usage');
      expect(usage).toHaveLength(6);
      for (const u of usage)
        expect(u).toMatchObject({ model: 'offline', inputTokens: expect.any(Number), outputTokens: expect.any(Number) });
      expect(usage.every((u) => u.type === 'usage' && u.inputTokens > 20)).toBe(true);
    });
  }

  it('uses only the tools it was granted', async () => {
    const { events, outcome } = await runOffline({ grant: ['read_file', 'run_command'] });
    // Without list_files it knows no file to read.
    expect(calls(events).map((c) => c.tool)).toEqual(['run_command']);
    expect(outcome.status).toBe('completed');
    const none = await runOffline({ grant: [] });
    expect(calls(none.events)).toEqual([]);
    expect(none.outcome).toMatchObject({ status: 'completed', steps: 1 });
  });

  it('answers with an object valid against the task’s output schema', async () => {
    const { outcome } = await runOffline({
      task: { id: 'fix', description: 'Fix {title}', expectedOutput: 'JSON', outputSchema: OUTPUT_SCHEMA },
    });
    expect(outcome.status).toBe('completed');
    const output = outcome.status === 'completed' ? outcome.output : undefined;
    expect(compile(OUTPUT_SCHEMA)(output)).toBe(true);
  });

  it('is deterministic: the same task gives the same events and answer', async () => {
    const strip = (events: AgentEvent[]) => events.map((e) => (e.type === 'tool_result' ? { ...e, durationMs: 0 } : e));
    const a = await runOffline();
    const b = await runOffline();
    expect(strip(b.events)).toEqual(strip(a.events));
    expect(b.outcome).toEqual(a.outcome);
  });

  it('answers without tools at the last step when its step limit is near', async () => {
    const { events, outcome } = await runOffline({
      task: { id: 'fix', description: 'Fix {title}', expectedOutput: 'A summary', maxSteps: 3 },
    });
    expect(calls(events).map((c) => c.tool)).toEqual(['list_files', 'read_file']);
    expect(outcome).toMatchObject({ status: 'completed', steps: 3, finalAnswerForced: true });
  });

  for (const stream of [false, true]) {
    it(`a refused charge stops it before the tool its answer asked for runs (${stream ? 'streaming' : 'non-streaming'})`, async () => {
      const seen: string[] = [];
      const { outcome, files } = await runOffline({
        stream,
        grant: ['write_file'],
        emit: (e) => (seen.push(e.type), e.type === 'usage' ? 'stop' : undefined),
      });
      expect(outcome).toMatchObject({ status: 'stopped', steps: 1 });
      expect(seen).toEqual(['usage']);
      expect(files.has(OFFLINE_NOTES_PATH)).toBe(false);
    });
  }

  it('stops between steps when aborted', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const { outcome } = await runOffline({
      signal: controller.signal,
      emit: (e) => {
        seen.push(e.type === 'tool_call' ? e.tool : e.type);
        if (e.type === 'tool_result') controller.abort();
      },
    });
    expect(outcome).toMatchObject({ status: 'stopped', message: 'Task fix was cancelled.', steps: 1 });
    expect(seen).toEqual(['usage', 'list_files', 'tool_result']);
  });

  describe('with a playbook in the repository', () => {
    const playbook = JSON.stringify({
      roles: {
        Developer: {
          calls: [
            { tool: 'read_file', input: { path: 'src/cart.ts' } },
            { tool: 'search', input: { pattern: 'total' } },
            { tool: 'edit_file', input: { path: 'src/cart.ts', oldText: 'total = 0', newText: 'total = 42' } },
            { tool: 'run_command', input: { command: 'npm test' } },
          ],
          answer: 'The total is 42 now.',
        },
      },
    });
    const withPlaybook = { extraFiles: [[OFFLINE_PLAYBOOK_PATH, playbook]] as [string, string][] };

    it('an agent whose role it names reads it and makes its calls in order (those of granted tools), then gives its answer', async () => {
      const { outcome, events, files } = await runOffline(withPlaybook);
      expect(calls(events)).toEqual([
        { tool: 'list_files', args: {} },
        { tool: 'read_file', args: { path: OFFLINE_PLAYBOOK_PATH } },
        { tool: 'read_file', args: { path: 'src/cart.ts' } },
        // `search` is not granted (the fake tools have none): skipped.
        { tool: 'edit_file', args: { path: 'src/cart.ts', oldText: 'total = 0', newText: 'total = 42' } },
        { tool: 'run_command', args: { command: 'npm test' } },
      ]);
      expect(files.get('src/cart.ts')).toBe('export const total = 42;\n');
      expect(files.has(OFFLINE_NOTES_PATH)).toBe(false);
      expect(outcome).toMatchObject({ status: 'completed', text: 'The total is 42 now.' });
    });

    it('an agent of another role reads it, finds nothing for itself and follows the generic script (the playbook is not the file it reads)', async () => {
      const agent = {
        id: 'dev',
        role: 'Reviewer',
        goal: 'Fix {title}',
        backstory: 'Careful.',
        model: 'offline',
        tools: ALL_TOOLS.filter((n) => n !== 'search'),
      };
      const { events, files } = await runOffline({ ...withPlaybook, agent });
      expect(calls(events).map((c) => `${c.tool}${c.args.path ? ` ${c.args.path}` : ''}`)).toEqual([
        'list_files',
        `read_file ${OFFLINE_PLAYBOOK_PATH}`,
        'read_file README.md',
        `write_file ${OFFLINE_NOTES_PATH}`,
        `edit_file ${OFFLINE_NOTES_PATH}`,
        'run_command',
      ]);
      expect(files.get('src/cart.ts')).toBe('export const total = 0;\n');
    });

    it('a playbook that is not JSON is ignored', async () => {
      const { events } = await runOffline({ extraFiles: [[OFFLINE_PLAYBOOK_PATH, '{ not json']] });
      expect(calls(events).map((c) => c.tool)).toEqual(['list_files', 'read_file', 'read_file', 'write_file', 'edit_file', 'run_command']);
    });
  });
});
