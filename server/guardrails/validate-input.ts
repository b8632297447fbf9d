import { compileUserSchema } from '../json-schema/ajv.ts';
import { describeErrors, sentence, type FieldError } from '../json-schema/describe-errors.ts';

export type InputValidation = { ok: true } | { ok: false; message: string; errors: FieldError[] };

/** Checks a job's input against its template's input schema; the message names the offending fields. */
export function validateJobInput(schema: object, input: unknown): InputValidation {
  let validate;
  try {
    validate = compileUserSchema(schema);
  } catch (err) {
    return {
      ok: false,
      message: `The template's input schema is invalid (${(err as Error).message}); ask an admin to fix the template.`,
      errors: [],
    };
  }
  if (validate(input)) return { ok: true };
  const errors = describeErrors(validate.errors);
  return { ok: false, message: `Job input is invalid: ${sentence(errors)}.`, errors };
}
