import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENCODINGS, encodeSecret, leaks } from '../test/secret-forms.ts';
import {
  createRedactor,
  isRedactable,
  MIN_LETTERS_ONLY_LENGTH,
  MIN_SECRET_LENGTH,
  REDACTED,
  redactText,
  redactValue,
  registerSecret,
  scanBytes,
  scanText,
} from './redact.ts';

// A key with the characters that encodings change: + / = " \
const KEY = 'sk-live-Ab3+/q"Z\\9=xY7pL2mN8wQ';
registerSecret('the model API key', KEY);

describe('redaction of a configured secret', () => {
  it.each(ENCODINGS)('removes it %s-encoded from surrounding text, keeping the text around it', (encoding) => {
    const text = `{"error":{"message":"Incorrect API key provided: ${encodeSecret(KEY, encoding)}. See the docs."}}`;
    const { text: out, found } = scanText(text);
    expect(leaks(out, KEY)).toEqual([]);
    expect(found).toEqual(['the model API key']);
    expect(out).toContain(REDACTED);
    expect(out).toContain('Incorrect API key provided: ');
    expect(out).toContain('. See the docs.');
  });

  it('removes it from every string of a value, object keys included, saying where', () => {
    const value = { files: [{ path: 'a.ts', content: `const k = "${KEY}"` }], [KEY]: 1, n: 3, ok: true, none: null };
    const out = redactValue(value);
    expect(leaks(JSON.stringify(out), KEY)).toEqual([]);
    expect(out).toMatchObject({ n: 3, ok: true, none: null, [REDACTED]: 1 });
  });

  it('removes it from file bytes, UTF-8 or binary, leaving the other bytes as they were', () => {
    const utf8 = Buffer.from(`héllo ${KEY} ✓`);
    expect(scanBytes(utf8).body.toString()).toBe(`héllo ${REDACTED} ✓`);
    const binary = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), Buffer.from(KEY), Buffer.from([0x80, 0x01])]);
    const out = scanBytes(binary);
    expect(out.found).toEqual(['the model API key']);
    expect(out.body).toEqual(Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), Buffer.from(REDACTED), Buffer.from([0x80, 0x01])]));
  });

  it(`refuses a value that could be an ordinary word: under ${MIN_SECRET_LENGTH} characters, or only letters and under ${MIN_LETTERS_ONLY_LENGTH}`, () => {
    for (const word of ['abc', 'x7-k2', 'autodev', 'postgres', 'Administrator'])
      expect(registerSecret('a guessable password', word), word).toBe(false);
    expect(redactText('abc x7-k2 autodev postgres Administrator')).toBe('abc x7-k2 autodev postgres Administrator');
    expect(registerSecret('a password', 'hunter-22')).toBe(true);
    expect(registerSecret('a long letters-only password', 'correcthorsebatterystaple')).toBe(true);
    expect(redactText('hunter-22 correcthorsebatterystaple')).toBe('[redacted] [redacted]');
  });

  it('property: any printable secret, in any covered encoding, inside any text, is gone after redaction', () => {
    fc.assert(
      fc.property(
        fc.string({
          minLength: 12,
          maxLength: 64,
          unit: fc.constantFrom(...Array.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=-_."\\:@!~ ')),
        }),
        fc.constantFrom(...ENCODINGS),
        fc.string({ maxLength: 40 }),
        fc.string({ maxLength: 40 }),
        fc.nat(),
        (secret, encoding, before, after, salt) => {
          fc.pre(secret.trim().length >= 12 && isRedactable(secret));
          const redactor = createRedactor();
          redactor.registerSecret('a generated secret', secret);
          const out = redactor.scanText(`${before}${encodeSecret(secret, encoding, salt)}${after}`);
          expect(leaks(out.text, secret)).toEqual([]);
          expect(out.found).toContain('a generated secret');
        },
      ),
      { numRuns: 400, seed: 20261127 },
    );
  });
});

describe('redaction of token-shaped secrets (not configured anywhere)', () => {
  it.each([
    ['an AutoDev API token', `adv_${'Q'.repeat(43)}`, `adv_${'Q'.repeat(43)}`],
    ['an OpenAI-style key', `key sk-proj-${'b'.repeat(40)}!`, `sk-proj-${'b'.repeat(40)}`],
    ['a bearer header', 'authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x', 'eyJhbGciOiJIUzI1NiJ9'],
    ['a basic header', 'Authorization: Basic dXNlcjpodW50ZXIy', 'dXNlcjpodW50ZXIy'],
    ['a URL password', 'connect postgres://app:hunter2hunter2@db:5432/x failed', 'hunter2hunter2'],
    ['an AWS key id', 'AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE'],
    ['a private key', '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----', 'MIIEow'],
  ])('removes %s', (_, text, secret) => {
    const out = redactText(text);
    expect(out).not.toContain(secret);
    expect(out).toContain(REDACTED);
  });

  it('keeps ordinary text, code and ids unchanged', () => {
    const ordinary = [
      'Task write started by writer (1/2)',
      'export const toCsv = (rows: string[][]) => rows.map((r) => r.join(",")).join("\\n");',
      'sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      'job 3f1c2a9e-7b1d-4c55-9a1e-2b7c9d0e4f11, model claude-haiku-4-5, https://example.com/a/b?x=1',
      'headers: { authorization: `Bearer ${token}` }',
    ];
    for (const text of ordinary) expect(redactText(text)).toBe(text);
  });

  it('takes linear time on hostile text (10 MB texts, each in under 3 s)', () => {
    for (const text of ['a.'.repeat(5_000_000), `sk-live-Ab3 `.repeat(900_000), '://x:'.repeat(2_000_000), 'Bearer '.repeat(1_400_000)]) {
      const started = performance.now();
      redactText(text);
      expect(performance.now() - started).toBeLessThan(3000);
    }
  });
});
