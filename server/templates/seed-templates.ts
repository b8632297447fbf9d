import type pg from 'pg';
import { loadSeedTemplates } from '../guardrails/load-seed-templates.ts';
import { upsertTemplate } from './upsert-template.ts';

/** Adds the bundled templates (schemas/templates/*.json) to a project, leaving edited ones alone. */
export async function seedTemplates(pool: pg.Pool, projectId: string): Promise<number> {
  let added = 0;
  for (const t of await loadSeedTemplates()) {
    if (await upsertTemplate(pool, projectId, t, { onlyIfMissing: true })) added++;
    else await restoreKeyOrder(pool, projectId, t.slug, t.inputSchema, t.outputSchema);
  }
  return added;
}

/**
 * Bundled templates stored while the schema columns were `jsonb` lost their key order (and so
 * the form its field order). Where a stored schema still equals the bundled one, the bundled text
 * is written back; an edited template is left alone, and its version does not change.
 */
async function restoreKeyOrder(pool: pg.Pool, projectId: string, slug: string, inputSchema: object, outputSchema: object) {
  await pool.query(
    `UPDATE "Template" SET "inputSchema" = $3::text::json, "outputSchema" = $4::text::json
     WHERE "projectId" = $1 AND slug = $2
       AND "inputSchema"::jsonb = $3::text::jsonb AND "outputSchema"::jsonb = $4::text::jsonb
       AND ("inputSchema"::text <> $3::text OR "outputSchema"::text <> $4::text)`,
    [projectId, slug, JSON.stringify(inputSchema), JSON.stringify(outputSchema)],
  );
}
