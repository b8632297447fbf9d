import pino from 'pino';
import { redactText, redactValue } from './secrets/redact.ts';

/** Structured JSON logs (pino), one object per line on stderr; `child` adds request or job ids. */
export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

// Every line's message and fields pass the secret redaction (server/secrets/redact.ts): a
// provider's error body or a runner's output may quote a credential.
function wrap(p: pino.Logger): Logger {
  return {
    info: (msg, fields) => p.isLevelEnabled('info') && p.info(redactValue(fields ?? {}), redactText(msg)),
    warn: (msg, fields) => p.isLevelEnabled('warn') && p.warn(redactValue(fields ?? {}), redactText(msg)),
    error: (msg, fields) => p.isLevelEnabled('error') && p.error(redactValue(fields ?? {}), redactText(msg)),
    debug: (msg, fields) => p.isLevelEnabled('debug') && p.debug(redactValue(fields ?? {}), redactText(msg)),
    child: (fields) => wrap(p.child(redactValue(fields))),
  };
}

/** Lines go to stderr, or to `destination` (tests capture them). */
export function createLogger(level: string = 'info', base: Record<string, unknown> = {}, destination?: pino.DestinationStream): Logger {
  return wrap(
    pino(
      {
        level,
        base: { service: 'autodev', ...base },
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        // Credentials never reach the log, whatever a caller passes in `fields`.
        redact: {
          paths: ['authorization', '*.authorization', 'secret', '*.secret', 'apiKey', '*.apiKey', 'token', '*.token'],
          censor: '[redacted]',
        },
      },
      destination ?? pino.destination(2),
    ),
  );
}
