import { describe, expect, it } from 'vitest';
import { createRunnerOutputParser, type RunnerEvent, type Violation } from './parse-runner-output.ts';

function parse(chunks: (string | Buffer)[], limits = {}) {
  const events: RunnerEvent[] = [];
  const logs: string[] = [];
  const violations: Violation[] = [];
  const p = createRunnerOutputParser(limits, {
    onEvent: (e) => events.push(e),
    onLog: (l) => logs.push(l),
    onViolation: (v) => violations.push(v),
  });
  for (const c of chunks) p.write(Buffer.isBuffer(c) ? c : Buffer.from(c));
  p.end();
  return { events, logs, violations };
}

describe('the runner output parser', () => {
  it('passes valid events in order and keeps other lines as plain logs', () => {
    const r = parse([
      '{"v":1,"type":"log","level":"info","message":"hi"}\nplain text\n[1,2]\n',
      '{"v":1,"type":"result","output":{"a":1}}',
    ]);
    expect(r.events.map((e) => e.type)).toEqual(['log', 'result']);
    expect(r.logs).toEqual(['plain text', '[1,2]']);
    expect(r.violations).toEqual([]);
  });

  it('reassembles lines split across chunks, including inside a multi-byte character', () => {
    const line = Buffer.from('{"v":1,"type":"log","level":"info","message":"héllo ✓"}\n');
    const cut = line.indexOf(Buffer.from('✓')) + 1;
    const r = parse([line.subarray(0, cut), line.subarray(cut)]);
    expect(r.events).toEqual([{ v: 1, type: 'log', level: 'info', message: 'héllo ✓' }]);
  });

  it('refuses an invalid event once, with a readable reason, and ignores the rest', () => {
    const r = parse(['{"v":1,"type":"usage","model":"m","inputTokens":-1,"outputTokens":0}\n{"v":1,"type":"result","output":1}\n']);
    expect(r.violations).toEqual([{ code: 'PROTOCOL_VIOLATION', message: 'Runner event #1 is invalid: `inputTokens` must be >= 0.' }]);
    expect(r.events).toEqual([]);
  });

  it('refuses artifact paths outside the working directory', () => {
    const r = parse(['{"v":1,"type":"artifact","path":"../../etc/passwd","contentType":"text/plain","encoding":"utf8","content":"x"}\n']);
    expect(r.violations[0].code).toBe('PROTOCOL_VIOLATION');
  });

  it('enforces the limits: line size (without buffering the line), event count, total output', () => {
    const huge = parse(['a'.repeat(600), 'b'.repeat(600), '\n'], { maxLineBytes: 1000 });
    expect(huge.violations.map((v) => v.code)).toEqual(['EVENT_TOO_LARGE']);
    const many = parse([Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n') + '\n'], { maxEvents: 10 });
    expect(many.violations.map((v) => v.code)).toEqual(['TOO_MANY_EVENTS']);
    expect(many.logs).toHaveLength(10);
    const big = parse(['x\n'.repeat(100)], { maxOutputBytes: 50 });
    expect(big.violations.map((v) => v.code)).toEqual(['OUTPUT_TOO_LARGE']);
  });
});
