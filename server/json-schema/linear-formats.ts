import type { Format, FormatDefinition } from 'ajv';
import formatsModule from 'ajv-formats/dist/formats.js';
import { checkPattern, compileLinear } from './linear-regexp.ts';

// ajv-formats is CommonJS; under NodeNext its named exports arrive on the default export.
const { fullFormats } = formatsModule as unknown as { fullFormats: Record<string, Format> };

/**
 * A format's test by RE2, compiled at its first use: compiling all ~30 of them took 150–300 ms of
 * every server's start, for formats most runs never check. (They all compile: user-schema-validation.test.ts.)
 */
const linear = (pattern: string, flags = '') => {
  let compiled: { test(s: string): boolean } | undefined;
  return (s: string) => (compiled ??= compileLinear(pattern, flags)).test(s);
};

// The three ajv-formats regexes RE2 cannot express (they use lookahead), rewritten without it.
const HOSTNAME = linear('^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\\.[a-z0-9](?:[-0-9a-z]{0,61}[0-9a-z])?)*\\.?$', 'i');
const DURATION = linear('^P(?:(?:\\d+Y)?(?:\\d+M)?(?:\\d+D)?(?:T(?:\\d+H(?:\\d+M)?(?:\\d+S)?|\\d+M(?:\\d+S)?|\\d+S))?|(?:\\d+W)?)$');
const URL_SHAPE = linear((fullFormats.url as RegExp).source.replace(/\(\?!(?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)/g, ''), 'i');
const PRIVATE_IPV4 = /^(?:(?:10|127)(?:\.\d{1,3}){3}|(?:169\.254|192\.168)(?:\.\d{1,3}){2}|172\.(?:1[6-9]|2\d|3[0-1])(?:\.\d{1,3}){2})$/;

const rewritten: Record<string, (s: string) => boolean> = {
  hostname: (s) => (s.length <= 253 || (s.length === 254 && s.endsWith('.'))) && HOSTNAME(s),
  duration: (s) => s !== 'P' && DURATION(s),
  // ajv-formats' `url` also refuses private IPv4 hosts; the host is checked apart (it is short).
  url: (s) => {
    if (!URL_SHAPE(s)) return false;
    try {
      return !PRIVATE_IPV4.test(new URL(s).hostname);
    } catch {
      return false;
    }
  },
  // The `regex` format means "a pattern this server can run": RE2 syntax.
  regex: (s) => checkPattern(s).ok,
};

/**
 * ajv-formats' formats with every regular expression run by RE2, so no format check can
 * backtrack on user data. Formats that are functions (date, time, uri, byte…) keep theirs: their
 * regexes are fixed and were measured linear (guardrails/validation-time.test.ts).
 */
export const linearFormats: Record<string, Format> = Object.fromEntries(
  Object.entries(fullFormats).map(([name, f]): [string, Format] => {
    if (rewritten[name]) return [name, rewritten[name]];
    if (f instanceof RegExp) return [name, linear(f.source, f.flags)];
    if (typeof f === 'object' && f !== null && 'validate' in f && f.validate instanceof RegExp) {
      return [name, { ...(f as FormatDefinition<string>), validate: linear(f.validate.source, f.validate.flags) }];
    }
    return [name, f];
  }),
);
