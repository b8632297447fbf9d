/**
 * The forms a secret can take in text, for tests that assert it appears nowhere. Each encoding
 * the redaction claims to cover (server/secrets/redact.ts) has an encoder here, and `leaks` looks
 * for every one of them (a split secret is found by looking again with whitespace removed).
 */
export const ENCODINGS = ['plain', 'url', 'url-twice', 'json', 'json-twice', 'split', 'base64', 'base64url', 'hex'] as const;
export type Encoding = (typeof ENCODINGS)[number];

/** `secret` as it would appear in text written by something that applied `encoding` (base64 inside a longer value, e.g. `Basic user:key`). */
export function encodeSecret(secret: string, encoding: Encoding, salt = 1): string {
  switch (encoding) {
    case 'plain':
      return secret;
    case 'url':
      return encodeURIComponent(secret);
    case 'url-twice':
      return encodeURIComponent(encodeURIComponent(secret));
    case 'json':
      return JSON.stringify(secret).slice(1, -1);
    case 'json-twice':
      return JSON.stringify(JSON.stringify(secret)).slice(1, -1);
    case 'split': {
      const at = 1 + (salt % (secret.length - 1));
      return `${secret.slice(0, at)}\n    ${secret.slice(at)}`;
    }
    case 'base64':
      return Buffer.from(`${'u'.repeat(salt % 3)}:${secret}`).toString('base64');
    case 'base64url':
      return Buffer.from(`${'u'.repeat(salt % 3)}:${secret}`).toString('base64url');
    case 'hex':
      return Buffer.from(secret).toString('hex');
  }
}

/** The base64 characters that only the secret determines, at each of the three alignments. */
function base64Cores(secret: string, alphabet: 'base64' | 'base64url'): string[] {
  const bytes = Buffer.from(secret);
  return [0, 1, 2].map((offset) => {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString(alphabet);
    return encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
  });
}

/** Which forms of `secret` occur in `text` (empty: none). */
export function leaks(text: string, secret: string): string[] {
  const unsplit = text.replace(/\s|\\+[nrt]/g, '');
  const forms: [string, string][] = [
    ['plain', secret],
    ['url', encodeURIComponent(secret)],
    ['url-twice', encodeURIComponent(encodeURIComponent(secret))],
    ['json', JSON.stringify(secret).slice(1, -1)],
    ['json-twice', JSON.stringify(JSON.stringify(secret)).slice(1, -1)],
    ['hex', Buffer.from(secret).toString('hex')],
    ...base64Cores(secret, 'base64').map((c): [string, string] => ['base64', c]),
    ...base64Cores(secret, 'base64url').map((c): [string, string] => ['base64url', c]),
  ];
  const found = new Set<string>();
  for (const [name, form] of forms) {
    if (text.includes(form)) found.add(name);
    else if (unsplit.includes(form)) found.add(`${name} (split)`);
  }
  return [...found];
}
