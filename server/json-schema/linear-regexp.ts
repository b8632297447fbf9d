import { RE2JS } from 're2js';

/** What ajv needs from a regular expression engine (its `code.regExp` option). */
export interface RegExpLike {
  test(s: string): boolean;
}

/**
 * JavaScript spellings RE2 writes differently: `\uXXXX` and `\u{X…}` become `\x{…}`. Everything
 * else is passed through; what RE2 cannot express (backreferences, lookaround) stays an error.
 */
export function toRe2Syntax(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const rest = pattern.slice(i + 1);
    const braced = /^u\{([0-9a-fA-F]{1,6})\}/.exec(rest) ?? /^u([0-9a-fA-F]{4})/.exec(rest);
    if (braced) {
      out += `\\x{${braced[1]}}`;
      i += braced[0].length;
    } else {
      out += c + (pattern[i + 1] ?? '');
      i++;
    }
  }
  return out;
}

/** A pattern compiled by RE2 (linear-time matching, no backtracking); throws when RE2 cannot express it. */
export function compileLinear(pattern: string, flags = ''): RE2JS {
  return RE2JS.compile(toRe2Syntax(pattern), flags.includes('i') ? RE2JS.CASE_INSENSITIVE : 0);
}

/** A pattern's RE2 program may hold this many instructions (`a{1000}` has 1,002); compiling 1,000 takes ~10–40 ms. */
export const MAX_PATTERN_INSTRUCTIONS = 2000;

/** Sum of the counts in `{n}`, `{n,}` and `{n,m}`: refuses `a{1000}a{1000}…` before RE2 spends seconds compiling it. */
function repetitionTotal(pattern: string): number {
  let total = 0;
  for (const m of pattern.matchAll(/(?<!\\)\{(\d+)(?:,(\d*))?\}/g)) total += Math.max(Number(m[1]), Number(m[2] || 0));
  return total;
}

/** Longer patterns are refused: RE2's compile time grows with them. */
export const MAX_PATTERN_LENGTH = 1000;

export type PatternCheck = { ok: true; instructions: number } | { ok: false; reason: string };

/** Whether RE2 runs a pattern cheaply, and the size of its program; the reason (a sentence fragment) when not. */
export function checkPattern(pattern: string): PatternCheck {
  if (pattern.length > MAX_PATTERN_LENGTH)
    return { ok: false, reason: `it has ${pattern.length} characters; the limit is ${MAX_PATTERN_LENGTH}` };
  if (repetitionTotal(pattern) > MAX_PATTERN_INSTRUCTIONS)
    return { ok: false, reason: `its repetition counts add up to more than ${MAX_PATTERN_INSTRUCTIONS}` };
  try {
    const instructions = compileLinear(pattern).programSize();
    if (instructions > MAX_PATTERN_INSTRUCTIONS)
      return { ok: false, reason: `it compiles to ${instructions} instructions, over the limit of ${MAX_PATTERN_INSTRUCTIONS}` };
    return { ok: true, instructions };
  } catch (err) {
    const why = (err as Error).message.replace(/^error parsing regexp: /, '');
    return { ok: false, reason: `RE2 cannot run it (${why}); patterns use RE2 syntax, without backreferences or lookaround` };
  }
}

let instructions = 0;
/** RE2 instructions compiled so far by linearRegExp (the validator cache weighs entries by it). */
export const compiledInstructions = () => instructions;

/**
 * ajv's `code.regExp` engine for schemas whose patterns come from users: a pattern such as
 * `^(a+)+$` takes time linear in the input instead of exponential. `toString` must differ per
 * pattern: ajv shares compiled patterns between keywords by that key.
 */
export const linearRegExp = Object.assign(
  (pattern: string, flags: string): RegExpLike & { toString(): string } => {
    const re = compileLinear(pattern, flags);
    instructions += re.programSize();
    return { test: (s: string) => re.test(s), toString: () => `/${pattern}/${flags}` };
  },
  { code: 'linearRegExp' },
);
