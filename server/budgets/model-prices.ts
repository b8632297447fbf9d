import { formatUnits, roundsToZero, toUnits } from './money.ts';
import type pg from 'pg';
import { badInput } from '../errors.ts';

/**
 * The price table (USD per million tokens, one row per model name, shared by every project) and
 * the one rule that uses it before anything runs: a crew whose model has no price is refused
 * when its template is saved and when a job is created, not after the model was paid for.
 * Model names are the exact strings the runner reports and the charges look up (charge-usage.ts).
 */
const MAX_USD_PER_MILLION = 1_000_000;

export interface ModelPriceInput {
  model: string;
  inputUsdPerMillion: number;
  outputUsdPerMillion: number;
}

export function validateModelPrice(p: ModelPriceInput): void {
  if (p.model.length < 1 || p.model.length > 200 || p.model.trim() !== p.model || /\p{Cc}/u.test(p.model)) {
    throw badInput('`model` must be a model name of 1 to 200 characters, without surrounding spaces or control characters.', {
      field: 'model',
    });
  }
  for (const field of ['inputUsdPerMillion', 'outputUsdPerMillion'] as const) {
    const v = p[field];
    if (!Number.isFinite(v) || v < 0 || v > MAX_USD_PER_MILLION) {
      throw badInput(`\`${field}\` must be an amount between 0 and 1,000,000 USD per million tokens.`, { field });
    }
    // Kept to 8 decimal places like every amount: a smaller positive price would make the model free.
    if (roundsToZero(v)) {
      throw badInput(`\`${field}\` is kept to 8 decimal places: give 0 (free) or at least 0.00000001 USD per million tokens.`, { field });
    }
  }
}

export async function setModelPrice(pool: pg.Pool, p: ModelPriceInput): Promise<void> {
  validateModelPrice(p);
  await pool.query(
    `INSERT INTO "ModelPrice" (model, "inputUsdPerMillion", "outputUsdPerMillion", "updatedAt") VALUES ($1, $2, $3, now())
     ON CONFLICT (model) DO UPDATE SET "inputUsdPerMillion" = EXCLUDED."inputUsdPerMillion", "outputUsdPerMillion" = EXCLUDED."outputUsdPerMillion", "updatedAt" = now()`,
    [p.model, p.inputUsdPerMillion, p.outputUsdPerMillion],
  );
}

export type PriceMap = Map<string, { inputUsdPerMillion: string; outputUsdPerMillion: string }>;

/** The prices of the named models that have one, as exact decimal text (one query; the others are absent). */
export async function pricesOf(pool: pg.Pool, models: readonly string[]): Promise<PriceMap> {
  const { rows } = await pool.query<{ prices: PriceRow[] }>(`SELECT ${PRICES_OF('$1::text[]')} AS prices`, [[...new Set(models)]]);
  return priceMap(rows[0].prices);
}

export interface PriceRow {
  model: string;
  input: string;
  output: string;
}

/** SQL of a JSON array of the price rows of the models in `models` (SQL of a text[]), for a statement that reads more. */
export const PRICES_OF = (models: string) =>
  `(SELECT COALESCE(json_agg(json_build_object('model', m.model, 'input', m."inputUsdPerMillion"::text, 'output', m."outputUsdPerMillion"::text)), '[]'::json)
      FROM "ModelPrice" m WHERE m.model = ANY(${models}))`;

/** PRICES_OF's rows as exact decimal text by model. */
export function priceMap(rows: PriceRow[]): PriceMap {
  return new Map(
    rows.map((p) => [p.model, { inputUsdPerMillion: formatUnits(toUnits(p.input)), outputUsdPerMillion: formatUnits(toUnits(p.output)) }]),
  );
}

/** The models a crew's runs call: the operator's AUTODEV_MODEL override when set, else each agent's own (see PRICES_OF_CREW). */
export function modelsCalled(agents: readonly { model: string }[], override: string | null | undefined): string[] {
  return override ? [override] : agents.map((a) => a.model);
}

/**
 * Refuses a crew whose runs could not be charged. With the operator's AUTODEV_MODEL override every
 * agent calls that model (run-attempt.ts), so the override's price is the one that counts;
 * otherwise each agent's own model needs one.
 */
export async function refuseUnpricedModels(
  pool: pg.Pool,
  agents: readonly { id?: string; model: string }[],
  override: string | undefined,
  templateSlug?: string,
): Promise<void> {
  refuseUnpriced(await pricesOf(pool, modelsCalled(agents, override)), agents, override, templateSlug);
}

/**
 * SQL of the price rows (see PRICES_OF) of the models a crew would use: `override` (SQL of a text,
 * the operator's AUTODEV_MODEL) when not null, else its agents' (`crew`: SQL of a crew's jsonb).
 */
export const PRICES_OF_CREW = (crew: string, override: string) =>
  PRICES_OF(
    `(CASE WHEN ${override} IS NULL THEN ARRAY(SELECT a->>'model' FROM jsonb_array_elements(${crew}->'agents') a) ELSE ARRAY[${override}] END)`,
  );

/** The same refusal from prices already read (`priceMap` of PRICES_OF_CREW's rows). */
export function refuseUnpriced(
  priced: PriceMap,
  agents: readonly { id?: string; model: string }[],
  override: string | undefined,
  templateSlug?: string,
): void {
  const of = templateSlug ? `Template \`${templateSlug}\`: ` : '';
  if (override) {
    if (!priced.has(override)) {
      throw badInput(
        `${of}There is no price for model \`${override}\`, which the operator's AUTODEV_MODEL makes every agent use, so its usage could not be charged; an admin sets one with setModelPrice.`,
        { field: 'AUTODEV_MODEL', model: override },
      );
    }
    return;
  }
  const i = agents.findIndex((a) => !priced.has(a.model));
  if (i >= 0) {
    const a = agents[i];
    throw badInput(
      `${of}Agent \`${a.id ?? i}\` (\`crew.agents[${i}].model\`) uses model \`${a.model}\`, which has no price, so its usage could not be charged; an admin sets one with setModelPrice.`,
      { field: `crew.agents[${i}].model`, model: a.model },
    );
  }
}
