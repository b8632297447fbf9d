import type { JobEvent } from './use-job-events';

/** What a log line is about, for the log's Kind filter. */
export type EventKind = 'tool' | 'model' | 'check' | 'state' | 'log';

export const EVENT_KINDS: { value: EventKind; label: string }[] = [
  { value: 'tool', label: 'tool calls' },
  { value: 'model', label: 'model' },
  { value: 'check', label: 'checks' },
  { value: 'state', label: 'state' },
  { value: 'log', label: 'other logs' },
];

export function kindOf(e: JobEvent): EventKind {
  switch (e.type) {
    case 'TOOL_CALL':
    case 'TOOL_RESULT':
      return 'tool';
    case 'USAGE':
    case 'TASK_STARTED':
    case 'TASK_COMPLETED':
      return 'model';
    case 'GUARDRAIL':
      return 'check';
    case 'STATE_CHANGED':
      return 'state';
    default:
      return (e.data as { check?: unknown } | null)?.check ? 'check' : 'log';
  }
}
