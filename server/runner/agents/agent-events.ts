// What the agent loop reports, in the runner protocol's shapes (the runner adds `v: 1`).
// `usage` is today's event; `tool_call`/`tool_result` are the agent runtime's additions.

export type AgentEvent =
  | { type: 'usage'; model: string; inputTokens: number; outputTokens: number; task?: string }
  | { type: 'tool_call'; callId: string; tool: string; args: unknown; task?: string; agent?: string }
  | { type: 'tool_result'; callId: string; tool: string; ok: boolean; output: string; durationMs: number; task?: string; agent?: string };

/**
 * The runner's sink for events. Returning 'stop' (or throwing) stops the task at once: the budget
 * refusing a usage charge does this, so no further model call or tool runs after it.
 */
export type EmitAgentEvent = (event: AgentEvent) => void | 'stop' | Promise<void | 'stop'>;

/** A tool result's output in an event (the protocol's log-sized limit). */
export const MAX_EVENT_OUTPUT_CHARS = 16_384;
/** Each string inside a tool call's arguments in an event (a write_file's content can be large). */
export const MAX_EVENT_ARG_CHARS = 4_096;

export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = `\n… [${text.length - max} more characters cut]`;
  return text.slice(0, Math.max(0, max - note.length)) + note;
}

/** The arguments with every long string cut, keeping their shape (objects stay objects). */
export function capArgs(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return capText(value, MAX_EVENT_ARG_CHARS);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => capArgs(v, depth + 1));
  return Object.fromEntries(Object.entries(value).slice(0, 100).map(([k, v]) => [k, capArgs(v, depth + 1)]));
}
