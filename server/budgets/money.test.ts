import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatUnits, percentUsed, remainingUsd, toUnits, usd } from './money.ts';

// Amounts as PostgreSQL keeps them: numeric(18, 8), limits up to 1e9 USD.
const units = fc.bigInt({ min: 0n, max: 10n ** 17n });
const significantDigits = (text: string) =>
  text
    .replace(/^[-0.]+/, '')
    .replace('.', '')
    .replace(/0+$/, '').length || 1;

describe('money arithmetic', () => {
  it('reads and writes amounts exactly: text → units → text is the identity', () => {
    fc.assert(
      fc.property(units, (u) => {
        expect(toUnits(formatUnits(u))).toBe(u);
        expect(toUnits(formatUnits(u) + (formatUnits(u).includes('.') ? '0' : '.000'))).toBe(u); // trailing zeros change nothing
      }),
      { numRuns: 2000 },
    );
  });

  it('remainingUsd prints as the exact difference (no float noise) whenever a double can hold it', () => {
    fc.assert(
      fc.property(units, units, (a, b) => {
        const [limit, spent] = a >= b ? [a, b] : [b, a];
        const exact = formatUnits(limit - spent);
        const shown = remainingUsd(formatUnits(limit), formatUnits(spent));
        expect(shown).toBe(Number(exact)); // the double nearest to the exact difference
        // …which prints as exactly that difference (JavaScript prints the shortest text that reads back).
        if (significantDigits(exact) <= 15)
          expect(toUnits(shown !== 0 && shown < 1e-6 ? shown.toFixed(8) : String(shown))).toBe(limit - spent);
        expect(remainingUsd(formatUnits(spent), formatUnits(limit))).toBe(0); // overspent shows 0, never negative
      }),
      { numRuns: 2000 },
    );
  });

  it('a $1 limit with $0.9988275 spent leaves 0.0011725, not float subtraction’s 0.0011725000000000207', () => {
    expect(1 - 0.9988275).not.toBe(0.0011725); // what the API answered before
    expect(remainingUsd('1.00000000', '0.99882750')).toBe(0.0011725);
    expect(JSON.stringify({ remainingUsd: remainingUsd('1', '0.9988275') })).toBe('{"remainingUsd":0.0011725}');
  });

  it('usd() of a stored amount is the double nearest to it, and percentUsed is rounded to hundredths', () => {
    fc.assert(
      fc.property(units, (u) => {
        expect(usd(formatUnits(u))).toBe(Number(formatUnits(u)));
      }),
    );
    expect(percentUsed('3', '1')).toBe(33.33);
    expect(percentUsed('0', '1')).toBe(100);
    expect(percentUsed('100', '80')).toBe(80);
  });
});
