/**
 * Shapes of credentials recognised without being configured: third-party keys an agent might
 * paste into its output, and AutoDev's own API tokens. The named groups `pre` and `post`, when
 * present, are kept around the redaction marker (the `Bearer ` of a header, the `user:` of a URL),
 * so what surrounds a credential stays readable. Every pattern is a literal prefix followed by
 * bounded character classes: linear in the length of the text.
 */
export interface TokenPattern {
  kind: string;
  pattern: RegExp;
}

export const TOKEN_PATTERNS: TokenPattern[] = [
  {
    kind: 'private key',
    pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]{0,16384}?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|$)/g,
  },
  { kind: 'AWS access key id', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { kind: 'AWS secret access key', pattern: /(?<pre>aws_secret_access_key\s*[=:]\s*["']?)[A-Za-z0-9/+=]{40}/gi },
  { kind: 'GitHub token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b/g },
  { kind: 'OpenAI-style API key', pattern: /\bsk-[A-Za-z0-9_-]{20,}/g },
  { kind: 'Slack token', pattern: /\bxox[baprs]-[A-Za-z0-9-]{10,}\b/g },
  { kind: 'Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g },
  { kind: 'AutoDev API token', pattern: /\badv_[A-Za-z0-9_-]{20,}/g },
  { kind: 'bearer credential', pattern: /\b(?<pre>(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]{8,}/gi },
  // The password of a URL's user info (postgres://user:password@host).
  { kind: 'password in a URL', pattern: /(?<pre>:\/\/[^/\s:@"'\\]{0,256}:)[^@\s/"'\\]{1,256}(?<post>@)/gi },
];
