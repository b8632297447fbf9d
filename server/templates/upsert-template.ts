import type pg from 'pg';
import { refuseUnpricedModels } from '../budgets/model-prices.ts';
import type { Config } from '../config.ts';
import { refuseUnconfiguredModels } from '../intake/model-availability.ts';
import { badInput } from '../errors.ts';
import type { TemplateDefinition, TemplateValidation } from '../guardrails/validate-template.ts';
import { validateOffThread } from '../guardrails/validation-pool.ts';

/**
 * Creates or updates a template of the project; every update bumps `version`. Jobs keep the
 * spec of the version they were created from. `onlyIfMissing` seeds without overwriting;
 * `runnerEnvAllow` is the operator's list of `executor.env` names (config.runnerEnvAllow);
 * `sandboxNetwork` whether commands may have the host network (config.sandboxNetwork);
 * `models` (the operator's model configuration) refuses a crew whose models name a provider that is
 * not configured or have no price (not for seeds: a bad override must not stop startup). Keys are
 * checked at createJob, not here: an operator may set them after the template is saved.
 */
export async function upsertTemplate(
  pool: pg.Pool,
  projectId: string,
  definition: unknown,
  opts: { onlyIfMissing?: boolean; runnerEnvAllow?: readonly string[]; sandboxNetwork?: boolean; models?: Config['model'] } = {},
): Promise<string | null> {
  // In the validation worker: a user's schema that is slow to check is refused, not waited for.
  const checked = await validateOffThread<TemplateValidation>({
    op: 'template',
    definition,
    runnerEnvAllow: opts.runnerEnvAllow ?? [],
    sandboxNetwork: opts.sandboxNetwork ?? false,
  });
  if (!checked.ok) throw badInput(checked.message, { field: 'input', errors: checked.errors });
  const t: TemplateDefinition = checked.template;
  if (opts.models) {
    refuseUnconfiguredModels(opts.models, t.crew.agents);
    await refuseUnpricedModels(pool, t.crew.agents, opts.models.model);
  }
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO "Template" (id, "projectId", slug, name, description, crew, "inputSchema", "outputSchema", "requiresReview", "maxAttempts", "timeoutSeconds", executor, workspace, checks)
     VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT ("projectId", slug) DO ${
       opts.onlyIfMissing
         ? 'NOTHING'
         : `UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description, crew = EXCLUDED.crew,
            "inputSchema" = EXCLUDED."inputSchema", "outputSchema" = EXCLUDED."outputSchema", "requiresReview" = EXCLUDED."requiresReview",
            "maxAttempts" = EXCLUDED."maxAttempts", "timeoutSeconds" = EXCLUDED."timeoutSeconds", executor = EXCLUDED.executor,
            workspace = EXCLUDED.workspace, checks = EXCLUDED.checks,
            version = "Template".version + 1, "updatedAt" = now()`
     }
     RETURNING id`,
    [
      projectId,
      t.slug,
      t.name,
      t.description ?? '',
      JSON.stringify(t.crew),
      JSON.stringify(t.inputSchema),
      JSON.stringify(t.outputSchema),
      t.requiresReview ?? false,
      t.maxAttempts ?? 3,
      t.timeoutSeconds ?? 600,
      JSON.stringify(t.executor ?? { kind: 'local' }),
      t.workspace ? JSON.stringify(t.workspace) : null,
      JSON.stringify(t.checks ?? []),
    ],
  );
  return rows[0]?.id ?? null;
}
