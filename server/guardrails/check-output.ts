import { compile } from './ajv.ts';
import { describeErrors, sentence } from './describe-errors.ts';

export interface GuardrailResult {
  name: string;
  passed: boolean;
  message: string;
  details?: unknown;
}

const SECRET_PATTERNS: { kind: string; pattern: RegExp }[] = [
  { kind: 'private key', pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/ },
  { kind: 'AWS access key id', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { kind: 'AWS secret access key', pattern: /aws_secret_access_key\s*[=:]\s*["']?[A-Za-z0-9/+=]{40}/i },
  { kind: 'GitHub token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b/ },
  { kind: 'OpenAI-style API key', pattern: /\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}\b/ },
  { kind: 'Slack token', pattern: /\bxox[baprs]-[A-Za-z0-9-]{10,}\b/ },
  { kind: 'Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/ },
];

/** Every string in the output with its path (`files[0].content`). */
function* strings(value: unknown, path = ''): Generator<[string, string]> {
  if (typeof value === 'string') yield [path || '(root)', value];
  else if (Array.isArray(value)) for (let i = 0; i < value.length; i++) yield* strings(value[i], `${path}[${i}]`);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) yield* strings(v, path ? `${path}.${k}` : k);
}

/**
 * The output guardrails: the template's output schema, a size limit, and no secrets anywhere in
 * the output (file contents included). Messages say what and where, never the secret itself.
 */
export function checkOutput(outputSchema: object, output: unknown, rules: { maxOutputBytes?: number } = {}): GuardrailResult[] {
  const results: GuardrailResult[] = [];
  const validate = compile(outputSchema);
  if (validate(output)) results.push({ name: 'output-schema', passed: true, message: 'The output matches the template’s output schema.' });
  else {
    const errors = describeErrors(validate.errors);
    results.push({ name: 'output-schema', passed: false, message: `The output does not match the template’s output schema: ${sentence(errors)}.`, details: errors });
  }

  const max = rules.maxOutputBytes ?? 1024 * 1024;
  const size = Buffer.byteLength(JSON.stringify(output ?? null));
  results.push(
    size <= max
      ? { name: 'output-size', passed: true, message: `The output is ${size} bytes (limit ${max}).` }
      : { name: 'output-size', passed: false, message: `The output is ${size} bytes, over the limit of ${max}.`, details: { size, max } },
  );

  const found: { kind: string; path: string }[] = [];
  for (const [path, text] of strings(output)) {
    for (const { kind, pattern } of SECRET_PATTERNS) if (pattern.test(text)) found.push({ kind, path });
  }
  results.push(
    found.length === 0
      ? { name: 'no-secrets', passed: true, message: 'No credentials or private keys found in the output.' }
      : {
          name: 'no-secrets',
          passed: false,
          message: `The output contains what looks like a secret: ${found.map((f) => `${f.kind} in \`${f.path}\``).join(', ')}. Remove it.`,
          details: found,
        },
  );
  return results;
}

export const guardrailsPassed = (results: GuardrailResult[]) => results.every((r) => r.passed);
export const violations = (results: GuardrailResult[]) => results.filter((r) => !r.passed);
