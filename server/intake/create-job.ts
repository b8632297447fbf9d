import { roundsToZero } from '../budgets/money.ts';
import type pg from 'pg';
import { localRepositoryOutsideRoots } from '../runner/workspace/local-repository.ts';
import { AppError, badInput } from '../errors.ts';
import { ADD_RUN_OF_NEW_JOB } from '../jobs/enqueue-run.ts';
import type { InputValidation } from '../guardrails/validate-input.ts';
import { validateOffThread } from '../guardrails/validation-pool.ts';
import { PRICES_OF_CREW, modelsCalled, priceMap, refuseUnpriced, type PriceRow } from '../budgets/model-prices.ts';
import { refuseUnconfiguredModels } from './model-availability.ts';
import { SPENT_BUDGET, spentBudgetError, type SpentBudget } from '../budgets/refuse-spent-budget.ts';
import type { JobEventBus } from '../jobs/job-event-bus.ts';
import { insertEventsFrom, toEventRecord, type JobEventRecord, type NewJobEvent } from '../jobs/job-event.ts';
import type { JobSpec } from '../jobs/job-spec.ts';
import type { Config } from '../config.ts';

export interface CreateJobRequest {
  projectId: string;
  templateSlug: string;
  input: unknown;
  idempotencyKey?: string | null;
  maxCostUsd?: number | null;
  createdById: string | null;
  createdBy: string;
}

export interface CreateJobResult {
  jobId: string;
  created: boolean;
  /** The new job's own columns as its insert returned them (absent for an existing job). */
  columns?: NewJobColumns;
}

/** A new job's small columns (those the GraphQL Job type reads from its row); money as exact decimal text. */
export interface NewJobColumns {
  id: string;
  state: 'QUEUED';
  templateVersion: number;
  idempotencyKey: string | null;
  costUsd: string;
  maxCostUsd: string | null;
  attemptCount: number;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: null;
}

export const MAX_INPUT_BYTES = 256 * 1024;

export interface CreateJobDeps {
  pool: pg.Pool;
  events: JobEventBus;
  config?: { repositoryRoots: string[]; model?: Config['model'] };
  /** Where the runner's keys come from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

function validateRequest(req: CreateJobRequest): void {
  if (req.idempotencyKey !== undefined && req.idempotencyKey !== null) {
    if (req.idempotencyKey.length < 1 || req.idempotencyKey.length > 200) {
      throw badInput('`idempotencyKey` must be between 1 and 200 characters.', { field: 'idempotencyKey' });
    }
  }
  if (req.maxCostUsd !== undefined && req.maxCostUsd !== null) {
    if (!Number.isFinite(req.maxCostUsd) || req.maxCostUsd <= 0 || req.maxCostUsd > 1_000_000) {
      throw badInput('`maxCostUsd` must be a positive amount of at most 1,000,000 USD.', { field: 'maxCostUsd' });
    }
    // Kept to 8 decimal places: a smaller positive amount would be stored as 0, a job that can spend nothing.
    if (roundsToZero(req.maxCostUsd)) {
      throw badInput('`maxCostUsd` is kept to 8 decimal places: give at least 0.00000001 USD.', { field: 'maxCostUsd' });
    }
  }
  if (req.input === undefined || req.input === null) throw badInput('`input` is required (a JSON object).', { field: 'input' });
  if (Buffer.byteLength(JSON.stringify(req.input)) > MAX_INPUT_BYTES) {
    throw badInput(`\`input\` is larger than ${MAX_INPUT_BYTES / 1024} KiB.`, { field: 'input' });
  }
}

/**
 * Creates a job from the project's template: validates the input against the template's input
 * schema, then inserts the job, its first event and its queue entry in one statement.
 * With an idempotency key, the same key returns the same job (the unique index decides races);
 * reusing a key for a different request is a CONFLICT.
 */
export async function createJob(deps: CreateJobDeps, req: CreateJobRequest): Promise<CreateJobResult> {
  validateRequest(req);
  const override = deps.config?.model?.model || null;
  const key = templateKey(req, override);
  const known = knownTemplates.get(key);
  // The template as this process last read it: the insert checks that it is still the current
  // version, that every model its crew calls still has a price and that the project's budget is
  // not spent (what the read below decides), and inserts nothing otherwise. A refusal of the
  // input is the current version's to decide: the read below tells.
  const checked = known
    ? await checkInput(deps, known, req.input).then(
        (): Verdict => ACCEPTED,
        (error: unknown): Verdict => ({ error }),
      )
    : null;
  if (known && checked === ACCEPTED) {
    const outcome = await insertQueuedJob(deps.pool, req, known, specOf(known), JSON.stringify(req.input), {
      models: modelsCalled(known.crew.agents, override),
    });
    if (outcome !== STALE) {
      rememberTemplate(key, known); // the most recently used is forgotten last
      return created(deps, req, outcome);
    }
  }
  // The template, the prices its crew needs and a spent budget, in one read.
  const { rows: templates } = await deps.pool.query<TemplateRow & { prices: PriceRow[]; spentBudget: SpentBudget | null }>(
    `SELECT ${TEMPLATE_COLUMNS}, ${PRICES_OF_CREW('t.crew', '$3::text')} AS prices, ${SPENT_BUDGET('$1')} AS "spentBudget"
     FROM "Template" t WHERE "projectId" = $1 AND slug = $2`,
    [req.projectId, req.templateSlug, override],
  );
  const read = templates[0];
  if (!read) {
    knownTemplates.delete(key);
    throw badInput(`There is no template \`${req.templateSlug}\` in this project.`, { field: 'templateSlug' });
  }
  const { prices, spentBudget, ...template } = read;
  // The input was checked against this very version already: its verdict stands (one check per request).
  const sameVersion = known?.id === template.id && known.version === template.version;
  if (!(sameVersion && checked)) await checkInput(deps, template, req.input);
  else if (checked !== ACCEPTED) throw checked.error;
  refuseUnpriced(priceMap(prices), template.crew.agents, override ?? undefined, template.slug);
  const spent = spentBudgetError(spentBudget);
  if (spent) knownTemplates.delete(key);
  else rememberTemplate(key, template);
  // A retry of a request that already made its job still gets that job (or its CONFLICT) below.
  if (spent && !(req.idempotencyKey && (await keyTaken(deps.pool, req.projectId, req.idempotencyKey)))) throw spent;
  return created(deps, req, await insertQueuedJob(deps.pool, req, template, specOf(template), JSON.stringify(req.input)));
}

/** The known template's check of the input: ACCEPTED, or the refusal it threw. */
type Verdict = { error: unknown };
const ACCEPTED: Verdict = { error: null };

/** The template's columns a job's spec is made of. */
type TemplateRow = JobSpec & Required<Pick<JobSpec, 'workspace' | 'checks'>> & { id: string };
const TEMPLATE_COLUMNS = `id, slug, version, name, crew, "inputSchema", "outputSchema", "requiresReview", "maxAttempts", "timeoutSeconds", executor, workspace, checks`;

/**
 * The templates this process read last, by project, slug and the operator's model override: a
 * createJob that finds its template here sends one statement instead of two (the insert checks
 * what the read would have: see createJob). At most KNOWN_TEMPLATES, the least recently used
 * forgotten first. A template's content changes only with its version (upsertTemplate; the seeding
 * rewrites a bundled schema's key order only, the same JSON).
 */
const knownTemplates = new Map<string, TemplateRow>();
const KNOWN_TEMPLATES = 256;
const templateKey = (req: CreateJobRequest, override: string | null) => `${req.projectId}\0${req.templateSlug}\0${override ?? ''}`;

function rememberTemplate(key: string, template: TemplateRow) {
  knownTemplates.delete(key);
  knownTemplates.set(key, template);
  if (knownTemplates.size > KNOWN_TEMPLATES) knownTemplates.delete(knownTemplates.keys().next().value!);
}

/** What is refused of the input before a job exists: its schema, a local repository outside the roots, a model the runner could not call. */
async function checkInput(deps: CreateJobDeps, template: TemplateRow, input: unknown): Promise<void> {
  const valid = await validateOffThread<InputValidation>({ op: 'input', schema: template.inputSchema, input });
  if (!valid.ok) throw badInput(valid.message, { field: 'input', errors: valid.errors });
  refuseLocalRepository(template.workspace, input, deps.config?.repositoryRoots ?? []);
  // A provider or key the runner would lack, or a price deleted (or an override set) since the
  // template was saved: refused now, not after the run. A Kubernetes runner's keys are in its own
  // Secret, which this server cannot see.
  if (deps.config?.model) {
    const keysFrom = template.executor.kind === 'kubernetes' ? undefined : (deps.env ?? process.env);
    refuseUnconfiguredModels(deps.config.model, template.crew.agents, { keysFrom, templateSlug: template.slug });
  }
}

function specOf(template: TemplateRow) {
  return {
    slug: template.slug,
    version: template.version,
    name: template.name,
    crew: template.crew,
    inputSchema: template.inputSchema,
    outputSchema: template.outputSchema,
    requiresReview: template.requiresReview,
    maxAttempts: template.maxAttempts,
    timeoutSeconds: template.timeoutSeconds,
    executor: template.executor,
    workspace: template.workspace,
    checks: template.checks,
  };
}

/** The job inserted (published), or the one that holds the idempotency key (or its CONFLICT). */
async function created(deps: CreateJobDeps, req: CreateJobRequest, outcome: Inserted | null): Promise<CreateJobResult> {
  if (outcome) {
    await deps.events.publish([outcome.event]);
    return { jobId: outcome.jobId, created: true, columns: outcome.columns };
  }
  // The key was taken: by an identical request (return its job) or by a different one (refuse).
  // Every part of the request counts: the template, the input and the cost limit.
  const inputJson = JSON.stringify(req.input);
  const { rows } = await deps.pool.query<{ id: string; sameInput: boolean; sameMaxCost: boolean; slug: string }>(
    `SELECT j.id, j.input = $3::jsonb AS "sameInput", j."maxCostUsd" IS NOT DISTINCT FROM round($4::numeric, 8) AS "sameMaxCost", t.slug
     FROM "Job" j JOIN "Template" t ON t.id = j."templateId"
     WHERE j."projectId" = $1 AND j."idempotencyKey" = $2`,
    [req.projectId, req.idempotencyKey, inputJson, req.maxCostUsd ?? null],
  );
  const existing = rows[0];
  if (!existing) throw new AppError('CONFLICT', 'The idempotency key is in use by a job that is being created; try again.');
  const differs = [
    existing.slug !== req.templateSlug && 'templateSlug',
    !existing.sameInput && 'input',
    !existing.sameMaxCost && 'maxCostUsd',
  ].filter(Boolean);
  if (differs.length > 0) {
    throw new AppError(
      'CONFLICT',
      `The idempotency key \`${req.idempotencyKey}\` was already used for a different job (${existing.id}): this request's ${differs.join(' and ')} ${differs.length > 1 ? 'differ' : 'differs'}. Use a new key for a new request.`,
      { jobId: existing.id, differs },
    );
  }
  return { jobId: existing.id, created: false };
}

type Inserted = { jobId: string; event: JobEventRecord; columns: NewJobColumns };
/** The insert's check of a template known from an earlier read failed: nothing was inserted. */
const STALE = Symbol('stale template');

/** insertQueuedJob's arguments but the check. */
type InsertArgs = [
  pool: pg.Pool,
  req: CreateJobRequest,
  template: { id: string; slug: string; version: number },
  spec: object,
  inputJson: string,
];

/**
 * The job, its first event and its queue entry in ONE statement (so they commit together or not at
 * all, with no transaction around them). Null when the idempotency key is taken: nothing is inserted.
 * With `check` (a template known from an earlier read), STALE when the template is no longer that
 * version, a model of `check.models` has no price or the project's budget is spent: nothing is inserted.
 */
async function insertQueuedJob(...args: InsertArgs): Promise<Inserted | null>;
async function insertQueuedJob(...args: [...InsertArgs, check: { models: string[] }]): Promise<Inserted | null | typeof STALE>;
async function insertQueuedJob(
  ...[pool, req, template, spec, inputJson, check]: [...InsertArgs, check?: { models: string[] }]
): Promise<Inserted | null | typeof STALE> {
  const params: unknown[] = [
    req.projectId,
    template.id,
    template.version,
    JSON.stringify(spec),
    inputJson,
    req.idempotencyKey ?? null,
    req.maxCostUsd ?? null,
    req.createdById,
    req.createdBy,
  ];
  const created: NewJobEvent = {
    type: 'STATE_CHANGED',
    fromState: null,
    toState: 'QUEUED',
    message: `Job created from template ${template.slug} v${template.version}`,
    actor: req.createdBy,
  };
  if (check) params.push(check.models);
  // The known template's check: what createJob's read would decide, in this statement's snapshot.
  const checked = check
    ? `WITH current AS (
         SELECT EXISTS (SELECT 1 FROM "Template" t WHERE t.id = $2 AND t.version = $3 AND t."projectId" = $1)
                AND NOT EXISTS (SELECT 1 FROM unnest($10::text[]) m WHERE NOT EXISTS (SELECT 1 FROM "ModelPrice" p WHERE p.model = m))
                AND ${SPENT_BUDGET('$1')} IS NULL AS ok),
       job AS (
         INSERT INTO "Job" (id, "projectId", "templateId", "templateVersion", spec, input, "idempotencyKey", "maxCostUsd", "createdById", "createdBy", "lastSeq")
         SELECT gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9, 1 FROM current WHERE ok`
    : `WITH job AS (
         INSERT INTO "Job" (id, "projectId", "templateId", "templateVersion", spec, input, "idempotencyKey", "maxCostUsd", "createdById", "createdBy", "lastSeq")
         VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9, 1)`;
  const { rows } = await pool.query<Record<string, unknown>>(
    `${checked}
       ON CONFLICT ("projectId", "idempotencyKey") DO NOTHING
       RETURNING id, "projectId", 0 AS base,
                 json_build_object('id', id, 'state', state, 'templateVersion', "templateVersion", 'idempotencyKey', "idempotencyKey",
                   'costUsd', "costUsd"::text, 'maxCostUsd', "maxCostUsd"::text, 'attemptCount', "attemptCount", 'createdBy', "createdBy",
                   'createdAt', "createdAt", 'updatedAt', "updatedAt", 'finishedAt', "finishedAt") AS columns),
     -- Read below so that it runs (a CTE that only SELECTs runs when something reads it).
     queued AS (SELECT ${ADD_RUN_OF_NEW_JOB('job.id', 'job."projectId"')} AS entry FROM job),
     event AS (${insertEventsFrom('job', 's.id', [created], params)})
     SELECT event.*, (SELECT count(entry) FROM queued) AS queued, (SELECT columns FROM job) AS "jobColumns",
            ${check ? '(SELECT ok FROM current)' : 'true'} AS "templateCurrent"
       FROM (SELECT 1) one LEFT JOIN event ON true`,
    params,
  );
  const { queued: _queued, jobColumns, templateCurrent, ...event } = rows[0];
  if (event.jobId === null) return templateCurrent === true ? null : STALE;
  const columns = jobColumns as Omit<NewJobColumns, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string };
  return {
    jobId: event.jobId as string,
    event: toEventRecord(event),
    columns: { ...columns, createdAt: new Date(columns.createdAt), updatedAt: new Date(columns.updatedAt) },
  };
}

async function keyTaken(pool: pg.Pool, projectId: string, key: string): Promise<boolean> {
  const { rows } = await pool.query(`SELECT 1 FROM "Job" WHERE "projectId" = $1 AND "idempotencyKey" = $2`, [projectId, key]);
  return rows.length > 0;
}

/** A local repository outside the operator's roots is refused here, before a job exists (the runner checks again). */
function refuseLocalRepository(workspace: { repositoryField?: string } | null, input: unknown, roots: string[]) {
  if (!workspace) return;
  const field = workspace.repositoryField ?? 'repository';
  const repository = (input as Record<string, unknown> | null)?.[field];
  if (typeof repository !== 'string' || !repository) return;
  const problem = localRepositoryOutsideRoots(repository, roots);
  if (problem) throw badInput(`\`input.${field}\`: ${problem}`, { field: 'input' });
}
