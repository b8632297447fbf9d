import { readFileSync } from 'node:fs';
import type { ValidateFunction } from 'ajv';
import { sharedAjv } from '../json-schema/ajv.ts';
import { describeErrors } from '../json-schema/describe-errors.ts';
import type { RunnerEvent } from '../../schemas/types/runner-event.ts';

// The protocol's event type, generated from the schema that validates each line (npm run schema:types).
export type { RunnerEvent };

export interface ParserLimits {
  /** Longest line accepted (default 1 MiB); a longer one is never buffered whole. */
  maxLineBytes: number;
  /** Events plus plain lines per attempt (default 10,000). */
  maxEvents: number;
  /** Total stdout per attempt (default 20 MiB). */
  maxOutputBytes: number;
}

export const DEFAULT_LIMITS: ParserLimits = { maxLineBytes: 1024 * 1024, maxEvents: 10_000, maxOutputBytes: 20 * 1024 * 1024 };

export interface Violation {
  code: 'PROTOCOL_VIOLATION' | 'EVENT_TOO_LARGE' | 'TOO_MANY_EVENTS' | 'OUTPUT_TOO_LARGE';
  message: string;
}

export interface ParserHandlers {
  onEvent: (e: RunnerEvent) => void;
  onLog: (line: string) => void;
  onViolation: (v: Violation) => void;
}

// Compiled at the first runner's first line, not at every server's start (~150 ms).
let compiled: ValidateFunction | undefined;
const eventValidator = () =>
  (compiled ??= sharedAjv().compile(
    JSON.parse(readFileSync(new URL('../../schemas/runner-event.schema.json', import.meta.url), 'utf8')) as object,
  ));
const MAX_LOG_LINE = 16 * 1024;

/**
 * Splits a runner's stdout into lines and classifies each: a valid protocol event, a plain log
 * line, or a violation (invalid event, or a limit crossed). After the first violation everything
 * else is ignored. Memory is bounded by maxLineBytes whatever the runner writes.
 */
export function createRunnerOutputParser(limits: Partial<ParserLimits>, handlers: ParserHandlers) {
  const lim = { ...DEFAULT_LIMITS, ...limits };
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let total = 0;
  let count = 0;
  let stopped = false;

  const violate = (v: Violation) => {
    if (stopped) return;
    stopped = true;
    pending = [];
    handlers.onViolation(v);
  };

  const line = (buf: Buffer) => {
    if (stopped) return;
    const text = buf.toString('utf8').replace(/\r$/, '');
    if (text.trim() === '') return;
    if (++count > lim.maxEvents) {
      violate({ code: 'TOO_MANY_EVENTS', message: `The runner wrote more than ${lim.maxEvents} events and lines.` });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      handlers.onLog(text.slice(0, MAX_LOG_LINE));
      return;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || !('type' in parsed || 'v' in parsed)) {
      handlers.onLog(text.slice(0, MAX_LOG_LINE));
      return;
    }
    const validateEvent = eventValidator();
    if (!validateEvent(parsed)) {
      const first = describeErrors(validateEvent.errors)[0];
      violate({
        code: 'PROTOCOL_VIOLATION',
        message: `Runner event #${count} is invalid: ${first ? `\`${first.field}\` ${first.message}` : 'it does not match the protocol'}.`,
      });
      return;
    }
    handlers.onEvent(parsed as RunnerEvent);
  };

  return {
    write(chunk: Buffer) {
      if (stopped) return;
      total += chunk.length;
      if (total > lim.maxOutputBytes) {
        violate({ code: 'OUTPUT_TOO_LARGE', message: `The runner wrote more than ${lim.maxOutputBytes} bytes.` });
        return;
      }
      let start = 0;
      for (let nl = chunk.indexOf(10); nl !== -1 && !stopped; nl = chunk.indexOf(10, start)) {
        const piece = chunk.subarray(start, nl);
        if (pendingBytes + piece.length > lim.maxLineBytes) {
          violate({ code: 'EVENT_TOO_LARGE', message: `A line of the runner's output is longer than ${lim.maxLineBytes} bytes.` });
          return;
        }
        const whole = pending.length ? Buffer.concat([...pending, piece]) : piece;
        pending = [];
        pendingBytes = 0;
        line(whole);
        start = nl + 1;
      }
      if (stopped || start >= chunk.length) return;
      const rest = chunk.subarray(start);
      if (pendingBytes + rest.length > lim.maxLineBytes) {
        violate({ code: 'EVENT_TOO_LARGE', message: `A line of the runner's output is longer than ${lim.maxLineBytes} bytes.` });
        return;
      }
      pending.push(Buffer.from(rest));
      pendingBytes += rest.length;
    },
    end() {
      if (!stopped && pending.length) line(Buffer.concat(pending));
      pending = [];
    },
  };
}
