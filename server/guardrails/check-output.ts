import { compile } from '../json-schema/ajv.ts';
import { describeErrors, sentence } from '../json-schema/describe-errors.ts';
import { AppError } from '../errors.ts';
import { validateOffThread } from './validation-pool.ts';
import { scanValue, type SecretFinding } from '../secrets/redact.ts';

export interface GuardrailResult {
  name: string;
  passed: boolean;
  message: string;
  details?: unknown;
}

/**
 * The output guardrails: the template's output schema, a size limit, and no secrets anywhere in
 * the output (file contents included). Messages say what and where, never the secret itself.
 * The engine redacts runner output before storing it, so it passes what it removed from task
 * outputs, artifacts and the result as `leaks`: they fail no-secrets just as a secret still in
 * `output` does.
 */
export async function checkOutput(
  outputSchema: object,
  output: unknown,
  rules: { maxOutputBytes?: number; leaks?: SecretFinding[] } = {},
): Promise<GuardrailResult[]> {
  const results: GuardrailResult[] = [
    await validateOffThread<GuardrailResult>({ op: 'output', schema: outputSchema, output }).catch(tooSlow),
  ];

  const max = rules.maxOutputBytes ?? 1024 * 1024;
  const size = Buffer.byteLength(JSON.stringify(output ?? null));
  results.push(
    size <= max
      ? { name: 'output-size', passed: true, message: `The output is ${size} bytes (limit ${max}).` }
      : { name: 'output-size', passed: false, message: `The output is ${size} bytes, over the limit of ${max}.`, details: { size, max } },
  );

  results.push(noSecrets([...(rules.leaks ?? []), ...scanValue(output).found]));
  return results;
}

/** The output-schema result; runs in the validation worker (a user's schema can be slow). */
export function outputSchemaResult(outputSchema: object, output: unknown): GuardrailResult {
  const validate = compile(outputSchema);
  if (validate(output)) return { name: 'output-schema', passed: true, message: 'The output matches the template’s output schema.' };
  const errors = describeErrors(validate.errors);
  return {
    name: 'output-schema',
    passed: false,
    message: `The output does not match the template’s output schema: ${sentence(errors)}.`,
    details: errors,
  };
}

/** A schema the worker gave up on fails the guardrail with the pool's sentence instead of failing the attempt as a crash. */
function tooSlow(err: unknown): GuardrailResult {
  if (err instanceof AppError) return { name: 'output-schema', passed: false, message: err.message };
  throw err;
}

/** The no-secrets result over what was found; also for an attempt that leaked secrets and ended without a result. */
export function noSecrets(found: SecretFinding[]): GuardrailResult {
  return found.length === 0
    ? { name: 'no-secrets', passed: true, message: 'No credentials or private keys found in the output.' }
    : {
        name: 'no-secrets',
        passed: false,
        message: `The output contains what looks like a secret: ${found.map((f) => `${f.kind} in \`${f.path}\``).join(', ')}. Remove it.`,
        details: found,
      };
}

export const guardrailsPassed = (results: GuardrailResult[]) => results.every((r) => r.passed);
export const violations = (results: GuardrailResult[]) => results.filter((r) => !r.passed);
