import { scanText } from '../../secrets/redact.ts';

/**
 * How many characters of a step's text the live stream holds back. A secret can only be recognised
 * once all of it has arrived; a delta scanned alone would let a secret split across two deltas
 * through. So each step's text is redacted whole as it grows, and only what lies more than this many
 * characters before its end is published: any secret whose match is at most this long is complete
 * (and replaced) before a character of it is sent. Token-shaped secrets (`sk-…`, `Bearer …`) are
 * recognised by their first ~25 characters however long they are. Longer matches (a configured secret
 * of more than ~90 characters in base64, or written with whitespace between its characters, a URL
 * password of hundreds of characters) can still pass the live stream; the stored message is scanned whole either way and fails the no-secrets guardrail.
 */
export const LIVE_TEXT_HOLD_BACK = 128;

export interface LiveDelta {
  offset: number;
  text: string;
}

/**
 * The live text of one attempt's model steps, redacted across delta boundaries. Offsets of what it
 * returns are in the redacted text, so the deltas of a step add up to its stored message (which is
 * redacted whole, the same way).
 */
export function createLiveTextRedaction(holdBack = LIVE_TEXT_HOLD_BACK) {
  const steps = new Map<string, { raw: string; sent: number }>();
  const keyOf = (task: string, step: number) => `${task}\u0000${step}`;

  return {
    /** A raw delta from the runner: what may now be published, or null. */
    delta(task: string, step: number, offset: number, text: string): LiveDelta | null {
      const key = keyOf(task, step);
      const s = steps.get(key) ?? { raw: '', sent: 0 };
      steps.set(key, s);
      // The runner sends a step's text in order; a repeat is skipped, never appended twice.
      if (offset + text.length <= s.raw.length) return null;
      s.raw += text.slice(Math.max(0, s.raw.length - offset));
      const redacted = scanText(s.raw).text;
      const safeEnd = redacted.length - holdBack;
      if (safeEnd <= s.sent) return null;
      const out = { offset: s.sent, text: redacted.slice(s.sent, safeEnd) };
      s.sent = safeEnd;
      return out;
    },
    /** The step ended with its (already redacted) complete text: the rest of it, or null. */
    end(task: string, step: number, redactedMessage: string): LiveDelta | null {
      const key = keyOf(task, step);
      const s = steps.get(key);
      steps.delete(key);
      if (!s || s.sent >= redactedMessage.length) return null;
      return { offset: s.sent, text: redactedMessage.slice(s.sent) };
    },
  };
}
