import { TOKEN_PATTERNS } from './token-patterns.ts';

/**
 * The one place that decides what a secret looks like in text and removes it. Everything AutoDev
 * stores, streams or logs passes through here at its boundary: runner output as the engine
 * receives it, attempt errors and `Job.lastError`, every job event appended, every log line.
 *
 * Two kinds of secrets:
 * - configured ones (the model API key, the admin token, the signing key, the S3 secret, database
 *   and Redis passwords, values of `AUTODEV_SECRET_ENV` variables), registered at start and found
 *   in these encodings: plain; URL-encoded (once or twice, either hex case); JSON-escaped (once or
 *   more, `\uXXXX` too); split by whitespace or escaped line breaks between any two characters;
 *   base64 and base64url (at any alignment inside a longer encoded text, split into lines or not);
 *   hex (either case);
 * - token-shaped ones, by pattern (token-patterns.ts): `sk-…`, `adv_…`, `Bearer …`, cloud keys…
 *
 * The registry is process-wide on purpose: the secrets are the process's own configuration, the
 * boundaries that need them (the logger, the event store) are created before or without the
 * config, and a registry that only grows can never be weakened by a forgotten parameter.
 */

export const REDACTED = '[redacted]';
/**
 * Values that could be ordinary words are refused (the caller warns): redacting `autodev` or
 * `postgres` would mangle every text that mentions them and fail every crew output that does.
 */
export const MIN_SECRET_LENGTH = 8;
/** A value of letters only must be at least this long (`postgres:postgres` is a classic). */
export const MIN_LETTERS_ONLY_LENGTH = 16;

export function isRedactable(value: string): boolean {
  return value.length >= MIN_SECRET_LENGTH && (value.length >= MIN_LETTERS_ONLY_LENGTH || !/^[A-Za-z]+$/.test(value));
}

interface Matcher {
  kind: string;
  pattern: RegExp;
  /** The secret's length, for ordering (longest first). */
  length?: number;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
/** A hex digit in either case. */
const hexDigitRe = (d: string) => (/[a-f]/i.test(d) ? `[${d.toLowerCase()}${d.toUpperCase()}]` : d);
const hexRe = (n: number, width: number) => Array.from(n.toString(16).padStart(width, '0'), hexDigitRe).join('');
/** Whitespace or an escaped line break between two characters: a secret split across lines. */
const SPLIT = String.raw`(?:\s|\\[nrt]){0,16}`;

/** One character of the plain secret: itself, URL-encoded, or JSON-escaped. */
function plainAtom(ch: string): string {
  const alts = new Set<string>();
  if (ch === '\\') alts.add('\\\\+');
  else if (ch === '"' || ch === '/') alts.add(`\\\\*${escapeRe(ch)}`);
  else alts.add(escapeRe(ch));
  if (ch === ' ') alts.add('\\+');
  alts.add([...Buffer.from(ch, 'utf8')].map((b) => `%(?:25)?${hexRe(b, 2)}`).join(''));
  const code = ch.codePointAt(0)!;
  if (code <= 0xffff) alts.add(`\\\\+u${hexRe(code, 4)}`);
  return `(?:${[...alts].join('|')})`;
}

/** One base64 character: standard or URL-safe alphabet, URL-encoded or JSON-escaped. */
function base64Atom(ch: string): string {
  if (ch === '+') return '(?:[+-]|%2[bB])';
  if (ch === '/') return '(?:\\\\*/|_|%2[fF])';
  return ch;
}

/** The base64 characters that depend only on the secret when it starts `offset` bytes into the encoded data. */
function base64Core(bytes: Buffer, offset: number): string {
  const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
  const first = Math.ceil((8 * offset) / 6);
  const last = Math.floor((8 * (offset + bytes.length)) / 6); // exclusive
  return encoded.slice(first, last);
}

function configuredMatcher(value: string, label: string): Matcher {
  const bytes = Buffer.from(value, 'utf8');
  const variants = [
    // One atom per code point: the patterns match code points, not grapheme clusters.
    Array.from(value, plainAtom).join(SPLIT),
    ...[0, 1, 2].map((offset) => Array.from(base64Core(bytes, offset), base64Atom).join(SPLIT)),
    [...bytes].map((b) => hexRe(b, 2)).join(''),
  ];
  return { kind: label, pattern: new RegExp(variants.map((v) => `(?:${v})`).join('|'), 'g'), length: value.length };
}

function replaceAll(text: string, m: Matcher, found: Set<string>): string {
  m.pattern.lastIndex = 0;
  if (!m.pattern.test(text)) return text;
  found.add(m.kind);
  return text.replace(m.pattern, (...args: unknown[]) => {
    const groups = args[args.length - 1];
    const named = typeof groups === 'object' && groups ? (groups as { pre?: string; post?: string }) : {};
    return `${named.pre ?? ''}${REDACTED}${named.post ?? ''}`;
  });
}

/** Found secrets with where they were (`files[0].content`); never the secret itself. */
export interface SecretFinding {
  kind: string;
  path: string;
}

export interface Redactor {
  /**
   * Adds a configured secret. Returns false (and redacts nothing) for a value that could be an
   * ordinary word (see isRedactable), which the caller should report.
   */
  registerSecret: (label: string, value: string | undefined | null) => boolean;
  /** The text with every secret replaced by `[redacted]`, and the kinds of secrets found. */
  scanText: (text: string) => { text: string; found: string[] };
  /**
   * A copy of a JSON-like value with every string (object keys included) redacted, and where
   * secrets were found. Errors become `{ name, message, stack }` so their text is redacted too.
   */
  scanValue: <T>(value: T) => { value: T; found: SecretFinding[] };
  /**
   * File contents: redacted as UTF-8 text when they are valid UTF-8, otherwise byte for byte
   * (latin1), so the bytes around a secret are kept either way.
   */
  scanBytes: (body: Buffer) => { body: Buffer; found: string[] };
}

/** A redactor of its own (tests); the process's boundaries share the one below. */
export function createRedactor(): Redactor {
  const configured = new Map<string, string>(); // value → label
  let matchers: Matcher[] = [];

  const scanText = (input: string) => {
    const found = new Set<string>();
    let text = input;
    for (const m of matchers) text = replaceAll(text, m, found);
    for (const m of TOKEN_PATTERNS) text = replaceAll(text, m, found);
    return { text, found: [...found] };
  };

  return {
    registerSecret(label, value) {
      if (!value) return true;
      if (!isRedactable(value)) return false;
      if (configured.has(value)) return true;
      configured.set(value, label);
      // Longest first, so a secret that contains another is removed whole.
      matchers = [...matchers, configuredMatcher(value, label)].sort((a, b) => b.length! - a.length!);
      return true;
    },
    scanText,
    scanValue<T>(value: T) {
      const found: SecretFinding[] = [];
      const walk = (v: unknown, at: string): unknown => {
        if (typeof v === 'string') {
          const r = scanText(v);
          for (const kind of r.found) found.push({ kind, path: at || '(root)' });
          return r.text;
        }
        if (Array.isArray(v)) return v.map((item, i) => walk(item, `${at}[${i}]`));
        if (v instanceof Error) return walk({ name: v.name, message: v.message, stack: v.stack }, at);
        if (v && typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
          const out: Record<string, unknown> = {};
          for (const [k, item] of Object.entries(v)) {
            const key = scanText(k);
            for (const kind of key.found) found.push({ kind, path: `${at ? `${at}.` : ''}(a key)` });
            out[key.text] = walk(item, at ? `${at}.${key.text}` : key.text);
          }
          return out;
        }
        return v;
      };
      return { value: walk(value, '') as T, found };
    },
    scanBytes(body) {
      const asUtf8 = body.toString('utf8');
      const encoding: BufferEncoding = Buffer.from(asUtf8, 'utf8').equals(body) ? 'utf8' : 'latin1';
      const r = scanText(encoding === 'utf8' ? asUtf8 : body.toString('latin1'));
      return { body: r.found.length ? Buffer.from(r.text, encoding) : body, found: r.found };
    },
  };
}

const processRedactor = createRedactor();
export const registerSecret = processRedactor.registerSecret;
export const scanText = processRedactor.scanText;
export const scanValue = processRedactor.scanValue;
export const scanBytes = processRedactor.scanBytes;
export const redactText = (text: string): string => scanText(text).text;
export const redactValue = <T>(value: T): T => scanValue(value).value;
