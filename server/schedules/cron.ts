import { Cron } from 'croner';
import { badInput } from '../errors.ts';

const MAX_CRON_LENGTH = 200;
/** A tick at most this late still runs as itself; a later one counts as missed (see `tickToRun`). */
export const MISFIRE_GRACE_MS = 60_000;
/** Missed ticks are counted up to this many (a schedule every second down for a day would be 86,400). */
export const MAX_COUNTED_SKIPS = 10_000;

/** Checks an IANA time zone name; a sentence names the problem. */
export function validateTimezone(raw: string): string {
  const zone = raw.trim();
  try {
    if (!zone) throw new RangeError('empty');
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw badInput(`\`timezone\`: ${JSON.stringify(raw)} is not an IANA time zone (e.g. UTC, Europe/Paris, America/New_York).`, {
      field: 'timezone',
    });
  }
  return zone;
}

function cronOf(expr: string, timezone: string): Cron {
  return new Cron(expr, { timezone, paused: true });
}

/**
 * Checks a cron expression (5 fields, or 6 with seconds first; croner syntax) in its zone, and that it
 * ever fires. Returns the trimmed expression.
 */
export function validateCron(raw: string, timezone: string): string {
  const expr = raw.trim().replace(/\s+/g, ' ');
  if (!expr)
    throw badInput('`cron` is required, e.g. "0 9 * * 1-5" (9:00 on weekdays) or "*/10 * * * * *" (every 10 seconds).', { field: 'cron' });
  if (expr.length > MAX_CRON_LENGTH) throw badInput(`\`cron\` is at most ${MAX_CRON_LENGTH} characters.`, { field: 'cron' });
  let cron: Cron;
  try {
    cron = cronOf(expr, timezone);
  } catch (err) {
    const why = (err as Error).message.replace(/^CronPattern: /, '').replace(/\.$/, '');
    throw badInput(
      `\`cron\`: ${JSON.stringify(raw)} is not a cron expression (${why}). Use 5 fields (minute hour day month weekday) or 6 with seconds first.`,
      { field: 'cron' },
    );
  }
  if (!cron.nextRun(new Date())) throw badInput(`\`cron\`: ${JSON.stringify(raw)} never fires.`, { field: 'cron' });
  return expr;
}

/** The first tick strictly after `after`, or null when the expression fires no more. */
export function nextTick(expr: string, timezone: string, after: Date): Date | null {
  return cronOf(expr, timezone).nextRun(after);
}

/** The latest tick at or before `now` and after `from` (null: none), found by widening a window back from `now`. */
function latestTickAtOrBefore(cron: Cron, from: Date, now: Date): Date | null {
  for (let width = 1000; ; width *= 2) {
    const start = new Date(Math.max(from.getTime(), now.getTime() - width));
    let tick = cron.nextRun(new Date(start.getTime() - 1));
    if (tick && tick <= now) {
      // Walk forward within the window to its last tick (few: the window is at most twice the gap).
      for (let next = cron.nextRun(tick); next && next <= now; next = cron.nextRun(tick)) tick = next;
      return tick;
    }
    if (start.getTime() <= from.getTime()) return null;
  }
}

/**
 * The missed-tick policy. A tick task runs at `now` for the tick it was queued for (`scheduled`).
 * Late by at most MISFIRE_GRACE_MS (a busy worker, a restart): that tick runs. Later than that
 * (nothing ran for a while): only the most recent due tick runs, and the older ones are skipped
 * and counted (up to MAX_COUNTED_SKIPS).
 */
export function tickToRun(expr: string, timezone: string, scheduled: Date, now: Date): { at: Date; skipped: number } {
  if (now.getTime() - scheduled.getTime() <= MISFIRE_GRACE_MS) return { at: scheduled, skipped: 0 };
  const cron = cronOf(expr, timezone);
  const latest = latestTickAtOrBefore(cron, scheduled, now) ?? scheduled;
  if (latest.getTime() <= scheduled.getTime()) return { at: scheduled, skipped: 0 };
  let skipped = 0;
  for (let t: Date | null = scheduled; t && t < latest && skipped < MAX_COUNTED_SKIPS; t = cron.nextRun(t)) skipped++;
  return { at: latest, skipped };
}
