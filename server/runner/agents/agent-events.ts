// What the agent loop reports: runner protocol events (schemas/runner-event.schema.json), ready to
// be written as they are. `usage` is charged by the engine; tool_call/tool_result are built capped
// by server/runner/tools/tool-events.ts.
import type { RunnerEvent } from '../../runner-protocol/parse-runner-output.ts';

export type AgentEvent = Extract<RunnerEvent, { type: 'usage' | 'tool_call' | 'tool_result' }>;

/**
 * The runner's sink for events. Returning 'stop' (or a promise of it), or throwing, stops the task
 * at once: the budget refusing a usage charge does this, so no further model call or tool runs
 * after it. Any other answer, nothing included, lets the task go on.
 */
export type EmitAgentEvent = (event: AgentEvent) => unknown;

/** Longest error message the loop returns (the protocol's `error` message cap). */
export const MAX_MESSAGE_CHARS = 16_384;

export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = `\n… [${text.length - max} more characters cut]`;
  return text.slice(0, Math.max(0, max - note.length)) + note;
}
