import type { RunnerEvent } from '../../runner-protocol/parse-runner-output.ts';

/** Longest `args` / `output` text in a tool_call / tool_result event (schemas/runner-event.schema.json). */
export const MAX_TOOL_EVENT_TEXT = 16_384;

type ToolCall = Extract<RunnerEvent, { type: 'tool_call' }>;
type ToolResultEvent = Extract<RunnerEvent, { type: 'tool_result' }>;

/** The runner event for a tool call, its arguments as JSON text cut to the protocol's cap. */
export function toolCallEvent(call: { callId: string; tool: string; args: unknown; agent?: string; task?: string }): ToolCall {
  const json = JSON.stringify(call.args ?? {}) ?? '{}';
  const args = cut(json);
  return {
    v: 1,
    type: 'tool_call',
    callId: cut(call.callId, 200),
    tool: call.tool,
    args,
    ...(args.length < json.length ? { argsTruncated: true } : {}),
    ...(call.agent ? { agent: cut(call.agent, 200) } : {}),
    ...(call.task ? { task: cut(call.task, 200) } : {}),
  };
}

/** The runner event for a tool's answer, its output cut to the protocol's cap. */
export function toolResultEvent(r: {
  callId: string;
  tool: string;
  ok: boolean;
  output: string;
  durationMs: number;
  agent?: string;
  task?: string;
}): ToolResultEvent {
  const output = cut(r.output);
  return {
    v: 1,
    type: 'tool_result',
    callId: cut(r.callId, 200),
    tool: r.tool,
    ok: r.ok,
    output,
    ...(output.length < r.output.length ? { outputTruncated: true } : {}),
    durationMs: Math.max(0, Math.round(r.durationMs)),
    ...(r.agent ? { agent: cut(r.agent, 200) } : {}),
    ...(r.task ? { task: cut(r.task, 200) } : {}),
  };
}

// Cut by UTF-16 units, never inside a surrogate pair (the schema counts code points, which this never exceeds).
function cut(text: string, max = MAX_TOOL_EVENT_TEXT): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text[max - 1]) ? max - 1 : max;
  return text.slice(0, end);
}
