import pino from 'pino';

/** Structured JSON logs (pino), one object per line on stderr; `child` adds request or job ids. */
export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

function wrap(p: pino.Logger): Logger {
  return {
    info: (msg, fields) => p.info(fields ?? {}, msg),
    warn: (msg, fields) => p.warn(fields ?? {}, msg),
    error: (msg, fields) => p.error(fields ?? {}, msg),
    debug: (msg, fields) => p.debug(fields ?? {}, msg),
    child: (fields) => wrap(p.child(fields)),
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
        redact: { paths: ['authorization', '*.authorization', 'secret', '*.secret', 'apiKey', '*.apiKey', 'token', '*.token'], censor: '[redacted]' },
      },
      destination ?? pino.destination(2),
    ),
  );
}
