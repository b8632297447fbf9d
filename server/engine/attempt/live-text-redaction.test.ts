import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { registerSecret, scanText } from '../../secrets/redact.ts';
import { createLiveTextRedaction } from './live-text-redaction.ts';

const CONFIGURED = 'Zq8-live-secret-7Hd2xPq';
registerSecret('a live-stream test secret', CONFIGURED);

/** Splits `text` into pieces of the given sizes (the last piece takes the rest). */
function split(text: string, sizes: number[]): string[] {
  const pieces: string[] = [];
  let at = 0;
  for (const n of sizes) {
    if (at >= text.length) break;
    pieces.push(text.slice(at, at + n));
    at += n;
  }
  if (at < text.length) pieces.push(text.slice(at));
  return pieces;
}

describe('live text redaction', () => {
  it('never publishes any part of a secret split across deltas; the deltas add up to the stored message (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 600 }),
        fc.string({ maxLength: 600 }),
        fc.constantFrom(
          CONFIGURED,
          Buffer.from(CONFIGURED).toString('base64'),
          `sk-${'A1b2C3d4'.repeat(4)}`,
          encodeURIComponent(`x/${CONFIGURED}`),
        ),
        fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 200 }),
        (before, after, secret, sizes) => {
          const raw = `${before} ${secret} ${after}`;
          const stored = scanText(raw).text; // the step's message as the engine stores it
          expect(stored).not.toContain(secret);
          const live = createLiveTextRedaction();
          let published = '';
          let offset = 0;
          for (const piece of split(raw, sizes)) {
            const d = live.delta('build', 0, offset, piece);
            offset += piece.length;
            if (!d) continue;
            expect(d.offset).toBe(published.length);
            published += d.text;
            // Whatever a subscriber has seen so far is the start of the redacted message: no secret, no part of one.
            expect(stored.startsWith(published)).toBe(true);
          }
          const rest = live.end('build', 0, stored);
          if (rest) {
            expect(rest.offset).toBe(published.length);
            published += rest.text;
          }
          expect(published).toBe(stored);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('skips a repeated delta, and keeps steps and tasks apart', () => {
    const live = createLiveTextRedaction(4);
    expect(live.delta('a', 0, 0, 'hello world')).toEqual({ offset: 0, text: 'hello w' });
    expect(live.delta('a', 0, 0, 'hello world')).toBeNull();
    expect(live.delta('a', 1, 0, 'other step!')).toEqual({ offset: 0, text: 'other s' });
    expect(live.delta('b', 0, 0, 'second task')).toEqual({ offset: 0, text: 'second ' });
    expect(live.end('a', 0, 'hello world')).toEqual({ offset: 7, text: 'orld' });
    // A step without deltas ends with nothing more to send (its message carries the text).
    expect(live.end('c', 0, 'unseen')).toBeNull();
  });
});
