import type { Readable } from 'node:stream';
import {
  createRunnerOutputParser,
  type ParserLimits,
  type RunnerEvent,
  type Violation,
} from '../../runner-protocol/parse-runner-output.ts';

export interface RunnerOutputHandlers {
  limits?: Partial<ParserLimits>;
  onEvent: (e: RunnerEvent) => void | Promise<void>;
  onLog: (line: string) => void | Promise<void>;
  /** A protocol violation, or a handler that threw; nothing more is handed on afterwards. */
  onViolation: (v: Violation) => void;
}

/**
 * Feeds a runner's output stream through the protocol parser and hands events and plain lines to
 * the handlers strictly in order, one at a time (the stream is paused meanwhile). Used by every
 * executor that reads a runner's stdout: a child process's pipe or a Kubernetes pod's log.
 * `finish()` flushes a last unterminated line and resolves once everything is handled; after
 * `stop()` nothing more is handed on.
 */
export function consumeRunnerOutput(stream: Readable, handlers: RunnerOutputHandlers): { finish(): Promise<void>; stop(): void } {
  let stopped = false;
  const queue: ({ event: RunnerEvent } | { line: string })[] = [];
  let draining: Promise<void> = Promise.resolve();
  const violate = (v: Violation) => {
    if (stopped) return;
    stopped = true;
    handlers.onViolation(v);
  };
  const parser = createRunnerOutputParser(handlers.limits ?? {}, {
    onEvent: (event) => queue.push({ event }),
    onLog: (line) => queue.push({ line }),
    onViolation: violate,
  });
  const drain = async () => {
    while (queue.length && !stopped) {
      const item = queue.shift()!;
      try {
        await ('event' in item ? handlers.onEvent(item.event) : handlers.onLog(item.line));
      } catch (err) {
        violate({ code: 'PROTOCOL_VIOLATION', message: `Handling a runner event failed: ${(err as Error).message}` });
      }
    }
    queue.length = 0;
  };
  stream.on('data', (chunk: Buffer) => {
    if (stopped) return;
    parser.write(chunk);
    if (queue.length) {
      stream.pause();
      draining = draining.then(drain).then(() => void stream.resume());
    }
  });
  return {
    stop() {
      stopped = true;
    },
    async finish() {
      parser.end();
      if (queue.length) draining = draining.then(drain);
      await draining;
    },
  };
}
