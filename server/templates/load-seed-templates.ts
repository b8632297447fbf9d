import { validateTemplateDefinition, type TemplateDefinition } from '../guardrails/validate-template.ts';
import { readSeedTemplateFiles } from './seed-template-files.ts';

/** The bundled templates (schemas/templates/*.json), each validated like an admin's upsert. */
export async function loadSeedTemplates(): Promise<TemplateDefinition[]> {
  return (await readSeedTemplateFiles()).map(({ file, definition }) => {
    const checked = validateTemplateDefinition(definition);
    if (!checked.ok) throw new Error(`${file}: ${checked.message}`);
    return checked.template;
  });
}
