import type { JobEvent } from './use-job-events';

/** One tool call of a crew, from its TOOL_CALL event and (once it answered) its TOOL_RESULT. */
export interface ToolCall {
  key: string;
  seq: number;
  attempt: number | null;
  agent: string;
  task: string | null;
  tool: string;
  args: string;
  argsTruncated: boolean;
  startedAt: string;
  result: null | { ok: boolean; output: string; outputTruncated: boolean; durationMs: number };
}

interface CallData {
  callId: string;
  tool: string;
  args?: string;
  argsTruncated?: boolean;
  agent?: string;
  task?: string;
  ok?: boolean;
  output?: string;
  outputTruncated?: boolean;
  durationMs?: number;
}

/** Pairs tool_call and tool_result events by attempt and call id, in the order the calls were made. */
export function toolCalls(events: JobEvent[]): ToolCall[] {
  const calls = new Map<string, ToolCall>();
  for (const e of events) {
    if (e.type !== 'TOOL_CALL' && e.type !== 'TOOL_RESULT') continue;
    const d = e.data as CallData;
    const key = `${e.attemptNumber ?? 0}:${d.callId}`;
    if (e.type === 'TOOL_CALL') {
      calls.set(key, {
        key,
        seq: e.seq,
        attempt: e.attemptNumber ?? null,
        agent: d.agent ?? e.actor,
        task: d.task ?? null,
        tool: d.tool,
        args: d.args ?? '',
        argsTruncated: !!d.argsTruncated,
        startedAt: e.createdAt,
        result: null,
      });
    } else {
      const call = calls.get(key);
      const result = { ok: !!d.ok, output: d.output ?? '', outputTruncated: !!d.outputTruncated, durationMs: d.durationMs ?? 0 };
      if (call) call.result = result;
      else
        calls.set(key, {
          key,
          seq: e.seq,
          attempt: e.attemptNumber ?? null,
          agent: d.agent ?? e.actor,
          task: d.task ?? null,
          tool: d.tool,
          args: '',
          argsTruncated: false,
          startedAt: e.createdAt,
          result,
        });
    }
  }
  return [...calls.values()];
}

/** The arguments a person recognises a call by: the path, the command, the pattern. */
export function argsSummary(call: ToolCall): string {
  try {
    const a = JSON.parse(call.args) as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
    const main = text(a.command) || text(a.path) || text(a.pattern);
    const range = text(a.startLine) ? `:${text(a.startLine)}${text(a.endLine) ? `-${text(a.endLine)}` : ''}` : '';
    if (main) return `${main}${range}${text(a.pattern) && text(a.path) ? ` in ${text(a.path)}` : ''}`;
    return Object.keys(a).length ? call.args : '';
  } catch {
    return call.args;
  }
}

/** What run_command says about how its command ended (its output starts with it). */
export function commandOutcome(output: string): string | null {
  const m = /^Exit code (-?\d+)\./.exec(output);
  if (m) return `exit ${m[1]}`;
  if (output.startsWith('Killed after')) return 'timed out';
  if (output.startsWith('Stopped:')) return 'cancelled';
  return null;
}

/** A text's size in UTF-8 bytes, for people ("412 B", "3.1 KB"). */
export function textSize(text: string, truncated = false): string {
  const n = new TextEncoder().encode(text).length;
  const shown = n < 1000 ? `${n} B` : n < 1_000_000 ? `${(n / 1000).toFixed(1)} KB` : `${(n / 1_000_000).toFixed(1)} MB`;
  return truncated ? `${shown}+` : shown;
}
