import type pg from 'pg';
import { readSeedTemplateFiles } from './seed-template-files.ts';
import { upsertTemplate } from './upsert-template.ts';

/**
 * Adds the bundled templates (schemas/templates/*.json) to a project, leaving edited ones alone.
 * Only a template the project lacks is validated (in the validation worker, as an admin's upsert)
 * and inserted: one the project already has is never overwritten, so a restart (every template
 * there) reads one row per template and starts no validation worker. That every bundled file is
 * valid is guardrails.test.ts's to prove.
 */
export async function seedTemplates(pool: pg.Pool, projectId: string): Promise<number> {
  const seeds = await readSeedTemplateFiles();
  const { rows } = await pool.query<{ slug: string }>(`SELECT slug FROM "Template" WHERE "projectId" = $1 AND slug = ANY($2::text[])`, [
    projectId,
    seeds.flatMap((s) => (s.slug === undefined ? [] : [s.slug])),
  ]);
  const stored = new Set(rows.map((r) => r.slug));
  let added = 0;
  for (const { file, slug, definition } of seeds) {
    if (slug === undefined || !stored.has(slug)) {
      const inserted = await upsertTemplate(pool, projectId, definition, { onlyIfMissing: true }).catch((err: unknown) => {
        throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
      });
      if (inserted) {
        added++;
        continue;
      }
    }
    // Stored already (by an earlier start, or concurrently just now).
    await restoreKeyOrder(pool, projectId, slug!, definition.inputSchema, definition.outputSchema);
  }
  return added;
}

/**
 * Bundled templates stored while the schema columns were `jsonb` lost their key order (and so
 * the form its field order). Where a stored schema still equals the bundled one, the bundled text
 * is written back; an edited template is left alone, and its version does not change.
 */
async function restoreKeyOrder(pool: pg.Pool, projectId: string, slug: string, inputSchema: unknown, outputSchema: unknown) {
  await pool.query(
    `UPDATE "Template" SET "inputSchema" = $3::text::json, "outputSchema" = $4::text::json
     WHERE "projectId" = $1 AND slug = $2
       AND "inputSchema"::jsonb = $3::text::jsonb AND "outputSchema"::jsonb = $4::text::jsonb
       AND ("inputSchema"::text <> $3::text OR "outputSchema"::text <> $4::text)`,
    [projectId, slug, JSON.stringify(inputSchema), JSON.stringify(outputSchema)],
  );
}
