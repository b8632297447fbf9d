import type { ValidateFunction } from 'ajv';
import { sharedAjv } from '../../json-schema/ajv.ts';

const compiled = new WeakMap<object, ValidateFunction>();

/** Checks a tool call's arguments against the tool's schema; returns a sentence for the model, or null when valid. */
export function argumentProblem(tool: string, schema: Record<string, unknown>, args: unknown): string | null {
  let validate = compiled.get(schema);
  if (!validate) compiled.set(schema, (validate = sharedAjv().compile(schema)));
  if (validate(args)) return null;
  const e = validate.errors?.[0];
  if (!e) return `Invalid arguments for ${tool}.`;
  const where = e.instancePath ? `\`${e.instancePath.slice(1)}\`` : 'the arguments';
  const extra =
    e.keyword === 'additionalProperties'
      ? ` (unknown argument \`${(e.params as { additionalProperty: string }).additionalProperty}\`)`
      : '';
  return `Invalid arguments for ${tool}: ${where} ${e.message}${extra}.`;
}
