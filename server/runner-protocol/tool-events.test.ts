import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_TOOL_EVENT_TEXT, toolCallEvent, toolResultEvent } from '../runner/tools/tool-events.ts';
import { createRunnerOutputParser, type RunnerEvent, type Violation } from './parse-runner-output.ts';

function parse(lines: unknown[]) {
  const events: RunnerEvent[] = [];
  const violations: Violation[] = [];
  const p = createRunnerOutputParser({}, { onEvent: (e) => events.push(e), onLog: () => {}, onViolation: (v) => violations.push(v) });
  p.write(Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n') + '\n'));
  p.end();
  return { events, violations };
}

const call = {
  v: 1,
  type: 'tool_call',
  callId: 'call-1',
  tool: 'edit_file',
  args: '{"path":"a.js","oldText":"a","newText":"b"}',
  agent: 'dev',
  task: 'fix',
};
const result = {
  v: 1,
  type: 'tool_result',
  callId: 'call-1',
  tool: 'edit_file',
  ok: false,
  output: 'oldText matches 2 places in a.js',
  durationMs: 4,
};

describe('tool_call and tool_result runner events', () => {
  it('validate with their required and optional fields', () => {
    const r = parse([
      call,
      result,
      { ...call, args: '{}', argsTruncated: true, agent: undefined },
      { ...result, outputTruncated: true, agent: 'dev', task: 'fix' },
    ]);
    expect(r.violations).toEqual([]);
    expect(r.events.map((e) => e.type)).toEqual(['tool_call', 'tool_result', 'tool_call', 'tool_result']);
  });

  it.each([
    ['args over 16 KiB', { ...call, args: 'x'.repeat(MAX_TOOL_EVENT_TEXT + 1) }, '`args` must NOT have more than 16384 characters'],
    ['output over 16 KiB', { ...result, output: 'y'.repeat(MAX_TOOL_EVENT_TEXT + 1) }, '`output` must NOT have more than 16384 characters'],
    ['args as an object', { ...call, args: { path: 'a' } }, '`args` must be a string'],
    ['a tool name that is not an identifier', { ...call, tool: 'rm -rf /' }, '`tool` must match pattern'],
    ['a result without its duration', { ...result, durationMs: undefined }, '`durationMs` is required'],
    ['a negative duration', { ...result, durationMs: -1 }, '`durationMs` must be >= 0'],
    ['an unknown field', { ...result, secret: 'x' }, '`secret` is not allowed'],
  ])('are refused with %s', (_name, event, reason) => {
    const r = parse([JSON.parse(JSON.stringify(event))]);
    expect(r.events).toEqual([]);
    expect(r.violations).toHaveLength(1);
    expect(r.violations[0].code).toBe('PROTOCOL_VIOLATION');
    expect(r.violations[0].message).toContain(reason);
  });

  it('built by the runner from any arguments and output, always validate, cut to the cap and say so (property)', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 3 }),
        fc.string({ unit: 'binary', maxLength: 40_000 }),
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.boolean(),
        fc.nat({ max: 100_000 }),
        (args, output, agent, ok, durationMs) => {
          const big = { blob: output, args };
          const c = toolCallEvent({ callId: 'c', tool: 'write_file', args: big, agent, task: agent });
          const res = toolResultEvent({ callId: 'c', tool: 'write_file', ok, output, durationMs, agent });
          const r = parse([c, res]);
          expect(r.violations).toEqual([]);
          expect(c.argsTruncated === true).toBe(JSON.stringify(big).length > MAX_TOOL_EVENT_TEXT);
          expect(res.outputTruncated === true).toBe(output.length > MAX_TOOL_EVENT_TEXT);
        },
      ),
      { numRuns: 200 },
    );
  });
});
