import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { registerSecret } from './secrets/redact.ts';
import { ENCODINGS, encodeSecret, leaks } from './test/secret-forms.ts';

describe('the logger', () => {
  it('writes no configured or token-shaped secret, in any covered encoding, from the message, the fields or a child’s bindings', () => {
    const key = 'sk-logger-test-9f+/Qz"7\\xK2';
    registerSecret('a logger test key', key);
    const lines: string[] = [];
    const log = createLogger('debug', {}, { write: (line: string) => void lines.push(line) });
    const child = log.child({ jobId: 'j1', upstream: `https://api?key=${encodeURIComponent(key)}` });
    for (const [i, enc] of ENCODINGS.entries()) {
      child.info(`provider said ${encodeSecret(key, enc, i)}`, {
        detail: { body: `{"key":"${encodeSecret(key, enc, i)}"}` },
        error: new Error(`bad key ${key}`),
      });
    }
    log.warn('a token', { header: `Bearer adv_${'x'.repeat(43)}` });
    expect(lines).toHaveLength(ENCODINGS.length + 1);
    expect(leaks(lines.join(''), key)).toEqual([]);
    expect(lines.join('')).not.toContain('adv_xxxx');
    expect(JSON.parse(lines[0])).toMatchObject({ msg: 'provider said [redacted]', jobId: 'j1', error: { message: 'bad key [redacted]' } });
  });
});
