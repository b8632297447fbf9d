// The model's text as it is written, for live watchers: deltas are coalesced per task so a fast
// stream makes at most one `text_delta` event per interval (~10 a second), and each model step
// ends with a `message` event holding its complete text (the one the engine stores). Deltas carry
// their offset in the step's text, so a subscriber can tell a gap from a repeat.
import type { RunnerEvent } from '../runner-protocol/parse-runner-output.ts';

type Emit = (event: RunnerEvent) => unknown;

export const DELTA_INTERVAL_MS = 100;
/** The protocol's cap on one delta's and one message's text. */
const MAX_TEXT = 65_536;

/** Plain functions (no `this`), handed on as callbacks one by one. */
export interface TaskTextStream {
  /** Text as the model writes it (streamed), or a step's whole text at once (not streamed). */
  delta: (text: string) => void;
  /** The step ended: sends what is buffered, then the step's complete text as a `message`. */
  endStep: () => Promise<void>;
  /** Sends what is buffered (the task ends or stops). */
  close: () => Promise<void>;
}

export function createTaskTextStream(emit: Emit, where: { task: string; agent?: string }, intervalMs = DELTA_INTERVAL_MS): TaskTextStream {
  let step = 0;
  let text = ''; // this step's text so far
  let sent = 0; // characters of it already sent as deltas
  let timer: NodeJS.Timeout | null = null;
  let lastSent = 0;
  let pending: Promise<unknown> = Promise.resolve();
  const base = { v: 1 as const, task: where.task, ...(where.agent ? { agent: where.agent } : {}) };

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    while (sent < text.length) {
      const piece = text.slice(sent, sent + MAX_TEXT);
      const event: RunnerEvent = { ...base, type: 'text_delta', step, offset: sent, text: piece };
      sent += piece.length;
      pending = pending.then(() => emit(event));
    }
    lastSent = Date.now();
    return pending;
  };

  return {
    delta(piece) {
      if (!piece) return;
      text += piece;
      if (timer) return;
      timer = setTimeout(() => void flush(), Math.max(0, lastSent + intervalMs - Date.now()));
    },
    async endStep() {
      await flush();
      if (text) {
        const event: RunnerEvent = { ...base, type: 'message', step, text: text.slice(0, MAX_TEXT) };
        await (pending = pending.then(() => emit(event)));
      }
      step++;
      text = '';
      sent = 0;
    },
    async close() {
      await flush();
    },
  };
}
