import { readdir, readFile } from 'node:fs/promises';
import { validateTemplateDefinition, type TemplateDefinition } from './validate-template.ts';

const DIR = new URL('../../schemas/templates/', import.meta.url);

/** The bundled templates (schemas/templates/*.json), each validated like an admin's upsert. */
export async function loadSeedTemplates(): Promise<TemplateDefinition[]> {
  const files = (await readdir(DIR)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => {
      const checked = validateTemplateDefinition(JSON.parse(await readFile(new URL(file, DIR), 'utf8')));
      if (!checked.ok) throw new Error(`schemas/templates/${file}: ${checked.message}`);
      return checked.template;
    }),
  );
}
