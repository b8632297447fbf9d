import type pg from 'pg';
import { loadSeedTemplates } from '../guardrails/load-seed-templates.ts';
import { upsertTemplate } from './upsert-template.ts';

/** Adds the bundled templates (schemas/templates/*.json) to a project, leaving edited ones alone. */
export async function seedTemplates(pool: pg.Pool, projectId: string): Promise<number> {
  let added = 0;
  for (const t of await loadSeedTemplates()) {
    if (await upsertTemplate(pool, projectId, t, { onlyIfMissing: true })) added++;
  }
  return added;
}
