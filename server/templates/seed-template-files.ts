import { readdir, readFile } from 'node:fs/promises';

const DIR = new URL('../../schemas/templates/', import.meta.url);

/** One bundled template file as written (not validated: upsertTemplate and loadSeedTemplates do that). */
export interface SeedTemplateFile {
  /** `schemas/templates/<name>.json`, for messages. */
  file: string;
  /** The slug the file declares (undefined when it declares none: validation then says why). */
  slug: string | undefined;
  definition: { inputSchema?: unknown; outputSchema?: unknown };
}

/** The bundled templates (schemas/templates/*.json) in file-name order, parsed. */
export async function readSeedTemplateFiles(): Promise<SeedTemplateFile[]> {
  const files = (await readdir(DIR)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (name) => {
      const definition = JSON.parse(await readFile(new URL(name, DIR), 'utf8')) as SeedTemplateFile['definition'] & { slug?: unknown };
      return { file: `schemas/templates/${name}`, slug: typeof definition.slug === 'string' ? definition.slug : undefined, definition };
    }),
  );
}
