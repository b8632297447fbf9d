/** Why an attempt stopped before its runner finished on its own. */
export type StopReason =
  { kind: 'cancelled' | 'lost' | 'shutdown' } | { kind: 'budget'; message: string } | { kind: 'refused'; code: string; message: string };

/** The first reason an attempt must stop, and the signal that stops its runner. Later reasons are ignored. */
export interface AttemptStop {
  readonly signal: AbortSignal;
  readonly reason: StopReason | null;
  halt(reason: StopReason): void;
}

export function createAttemptStop(): AttemptStop {
  const abort = new AbortController();
  let reason: StopReason | null = null;
  return {
    signal: abort.signal,
    get reason() {
      return reason;
    },
    halt(next) {
      reason ??= next;
      abort.abort();
    },
  };
}
