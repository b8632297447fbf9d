// Amounts are stored as numeric(18, 8) (USD to 1e-8) and computed there or here in whole units
// of 1e-8 USD (BigInt), never in binary floating point. The API keeps its Float fields: each is
// the double nearest to the exact amount, so it prints as that amount (0.0011725, not
// 0.001172499999999993) whenever the amount has at most 15 significant digits.
const SCALE = 8;
const ONE = 10n ** BigInt(SCALE);

type Amount = string | number | { toFixed(digits: number): string };

/** The amount in units of 1e-8 USD (a number is read at 8 decimals, as PostgreSQL stores it). */
export function toUnits(value: Amount): bigint {
  const text = typeof value === 'string' ? value : value.toFixed(SCALE);
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text.trim());
  if (!m) throw new Error(`not an amount: ${text}`);
  const fraction = (m[3] ?? '').padEnd(SCALE, '0');
  if (fraction.length > SCALE && /[1-9]/.test(fraction.slice(SCALE))) throw new Error(`more than ${SCALE} decimals: ${text}`);
  const units = BigInt(m[2]) * ONE + BigInt(fraction.slice(0, SCALE));
  return m[1] ? -units : units;
}

/** The smallest positive amount kept (1e-8 USD); a positive amount under half of it would be stored as 0. */
export const SMALLEST_AMOUNT = 0.00000001;

/** True for a positive amount that numeric(18, 8) would store as 0. */
export const roundsToZero = (value: number): boolean => value > 0 && value < SMALLEST_AMOUNT / 2;

/** The exact decimal text of an amount in units, without trailing zeros ("0.0011725"). */
export function formatUnits(units: bigint): string {
  const sign = units < 0n ? '-' : '';
  const abs = units < 0n ? -units : units;
  const fraction = (abs % ONE).toString().padStart(SCALE, '0').replace(/0+$/, '');
  return `${sign}${abs / ONE}${fraction ? `.${fraction}` : ''}`;
}

/** An amount as the API's Float: the double nearest to the exact value. */
export function usd(value: Amount): number {
  return Number(formatUnits(toUnits(value)));
}

export function usdOrNull(value: Amount | null | undefined): number | null {
  return value === null || value === undefined ? null : usd(value);
}

/** What is left of a limit (never below zero), exactly. */
export function remainingUsd(limit: Amount, spent: Amount): number {
  const left = toUnits(limit) - toUnits(spent);
  return Number(formatUnits(left > 0n ? left : 0n));
}

/** Spent as a percentage of the limit, to two decimals (100 when the limit is zero). */
export function percentUsed(limit: Amount, spent: Amount): number {
  const l = toUnits(limit);
  if (l <= 0n) return 100;
  const hundredths = (toUnits(spent) * 10_000n + l / 2n) / l; // rounded half up
  return Number(hundredths) / 100;
}
