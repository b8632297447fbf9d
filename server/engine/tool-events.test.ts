import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { addScriptedTemplates, createScriptedJob, SCRIPTED_RUNNER_COMMAND, waitForJob } from '../test/scripted.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ role: 'all', env: { AUTODEV_RUNNER_COMMAND: SCRIPTED_RUNNER_COMMAND } });
  await addScriptedTemplates(t);
});
afterAll(async () => {
  await t?.close();
});

describe('tool calls reported by the runner', () => {
  it('are stored in order as TOOL_CALL and TOOL_RESULT job events with their arguments, output and duration', async () => {
    const id = await createScriptedJob(t, 'tools');
    const job = await waitForJob(t, id, ['SUCCEEDED', 'FAILED']);
    expect(job.state).toBe('SUCCEEDED');
    const tools = job.events.filter((e: any) => e.type === 'TOOL_CALL' || e.type === 'TOOL_RESULT');
    expect(tools.map((e: any) => [e.type, e.message])).toEqual([
      ['TOOL_CALL', 'read_file {"path":"README.md"}'],
      ['TOOL_RESULT', 'read_file answered in 3 ms'],
      ['TOOL_CALL', 'run_command {"command":"npm test"}'],
      ['TOOL_RESULT', 'run_command failed in 1200 ms'],
    ]);
    expect(tools[3].data).toEqual({
      callId: 'call-2',
      tool: 'run_command',
      ok: false,
      output: 'Exit code 1.\n1 failing',
      durationMs: 1200,
      agent: 'writer',
      task: 'write',
    });
    expect(tools[0].data).toEqual({ callId: 'call-1', tool: 'read_file', args: '{"path":"README.md"}', agent: 'writer', task: 'write' });
  });
});
