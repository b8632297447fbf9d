import type { GraphQLContext } from './context.ts';
import { responseBudgetOf, type ResponseBudget } from './response-budget.ts';

// The fields whose values can be large (a job input is up to 256 KiB, an output up to 1 MiB, and a
// list multiplies them). Their values are never read with the parent row: a field asks for its
// rows' sizes first (octet_length in PostgreSQL), reserves them in the request's ResponseBudget,
// and only then reads the values, in one batch per field and tick. Where PostgreSQL keeps the size
// in a generated column (a job's input and output), that column is read instead of measuring.
const LARGE = {
  'Job.input': 'jsonb',
  'Job.output': 'jsonb',
  'Job.lastError': 'text',
  'Job.feedback': 'text',
  'JobAttempt.output': 'jsonb',
  'JobAttempt.guardrailResults': 'jsonb',
  'JobAttempt.feedback': 'text',
  'JobAttempt.exitReason': 'text',
  'Review.output': 'jsonb',
  'Review.editedOutput': 'jsonb',
  'Review.comment': 'text',
  'Review.feedback': 'text',
  'JobEvent.message': 'text',
  'JobEvent.data': 'jsonb',
  'Template.crew': 'jsonb',
  'Template.inputSchema': 'jsonb',
  'Template.outputSchema': 'jsonb',
  'Template.description': 'text',
  'Template.checks': 'jsonb',
  'Template.workspace': 'jsonb',
  'TaskCheckpoint.output': 'text',
  'TaskCheckpoint.question': 'text',
  'TaskCheckpoint.answer': 'text',
} as const;
export type LargeField = keyof typeof LARGE;
export const isLargeField = (name: string): name is LargeField => Object.hasOwn(LARGE, name);
/** The fields whose column is NOT NULL (the rest may read as null). */
type Required = 'Template.description';
type LargeValue<F extends LargeField> = (typeof LARGE)[F] extends 'text' ? (F extends Required ? string : string | null) : unknown;
const STORED_SIZE: Partial<Record<LargeField, string>> = { 'Job.input': '"inputBytes"', 'Job.output': '"outputBytes"' };

interface Batch {
  ids: string[];
  waiters: { id: string; resolve: (v: unknown) => void; reject: (e: unknown) => void }[];
}
const batches = new WeakMap<object, Map<LargeField, Batch>>();

/** Sizes and small values read ahead for a request (readAhead): by field, then row id. */
type ReadAhead = Map<LargeField, Map<string, { bytes: number; value: unknown }>>;
const readAheads = new WeakMap<object, ReadAhead>();

/** A resolver for a large field: `t.field({ type: 'JSON', resolve: largeField('Job.input') })`. */
export function largeField<F extends LargeField>(field: F) {
  const column = field.split('.')[1];
  // A text column reads as a string (or null), a jsonb one as any JSON value.
  return (row: object, _args: unknown, ctx: GraphQLContext): LargeValue<F> | Promise<LargeValue<F>> => {
    const r = row as Record<string, unknown>;
    // A live event (or a row read whole) already holds the value: count it, read nothing.
    if (r[column] !== undefined) {
      const value = r[column];
      if (value !== null) responseBudgetOf(ctx)?.take(Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value)));
      return Promise.resolve(value as LargeValue<F>);
    }
    const id = String(r.id);
    // Read ahead with the page: reserve its size now and answer without a promise (no statement).
    const ahead = readAheads.get(ctx)?.get(field)?.get(id);
    if (ahead) {
      responseBudgetOf(ctx)?.take(ahead.bytes);
      return ahead.value as LargeValue<F>;
    }
    return load(ctx, field, id) as Promise<LargeValue<F>>;
  };
}

function load(ctx: GraphQLContext, field: LargeField, id: string): Promise<unknown> {
  let perField = batches.get(ctx);
  if (!perField) batches.set(ctx, (perField = new Map<LargeField, Batch>()));
  let batch = perField.get(field);
  if (!batch) {
    const fresh: Batch = { ids: [], waiters: [] };
    perField.set(field, (batch = fresh));
    // graphql-js resolves a list's items in one pass: gather them, then read once.
    setImmediate(() => {
      perField.delete(field);
      flush(ctx, field, fresh).catch((err: unknown) => fresh.waiters.forEach((w) => w.reject(err)));
    });
  }
  batch.ids.push(id);
  return new Promise((resolve, reject) => batch.waiters.push({ id, resolve, reject }));
}

/** A value at most this large is read with its size, in the same statement (most are a few hundred bytes). */
const INLINE_MAX_BYTES = 8 * 1024;

/**
 * Small values come along with their sizes, at most what is left of the budget in all (split over
 * `count` rows; values read ahead and kept count as used): a refused request still never holds more
 * than its limit. Larger ones are read once reserved.
 */
function inlineBytes(budget: ResponseBudget, count: number): number {
  return Math.max(0, Math.min(INLINE_MAX_BYTES, Math.floor((budget.maxBytes - budget.used - budget.held) / Math.max(1, count))));
}

/** The sizes of `field` on rows `ids`, with the values no larger than `inline` bytes: one statement. */
async function sizesWithSmallValues(ctx: GraphQLContext, field: LargeField, ids: string[], inline: number) {
  const [table, column] = field.split('.');
  const bytes = STORED_SIZE[field] ?? `octet_length(${LARGE[field] === 'jsonb' ? `"${column}"::text` : `"${column}"`})`;
  const { rows } = await ctx.services.pool.query<{ id: string; bytes: number | null; value: unknown }>(
    `SELECT id::text AS id, ${bytes} AS bytes, CASE WHEN ${bytes} <= $2 THEN "${column}" END AS value FROM "${table}" WHERE id = ANY($1)`,
    [ids, inline],
  );
  return rows;
}

/**
 * Reads the sizes and small values of large fields ahead, one statement per field, for rows a page
 * has just loaded (large-field-read-ahead.ts decides which): their resolvers then reserve each size
 * and answer without a promise, so the objects above them complete synchronously. Nothing is
 * reserved here: each occurrence a resolver answers is, as when it reads for itself. A row or value
 * not read ahead (too large for what is left) is read by its resolver as before.
 */
export async function readAhead(ctx: GraphQLContext, wanted: Map<LargeField, Set<string>>): Promise<void> {
  const budget = responseBudgetOf(ctx);
  if (!budget || budget.refusal || wanted.size === 0) return;
  let count = 0;
  for (const ids of wanted.values()) count += ids.size;
  let known = readAheads.get(ctx);
  if (!known) readAheads.set(ctx, (known = new Map() as ReadAhead));
  await budget.inTurn(async () => {
    const inline = inlineBytes(budget, count);
    for (const [field, ids] of wanted) {
      const read = known.get(field) ?? new Map<string, { bytes: number; value: unknown }>();
      for (const r of await sizesWithSmallValues(ctx, field, [...ids], inline)) {
        if (r.bytes !== null && r.bytes > inline) continue;
        read.set(r.id, { bytes: r.bytes ?? 0, value: r.value });
        budget.held += r.bytes ?? 0;
      }
      known.set(field, read);
    }
  });
}

async function flush(ctx: GraphQLContext, field: LargeField, batch: Batch): Promise<void> {
  const [table, column] = field.split('.');
  const ids = [...new Set(batch.ids)];
  const budget = responseBudgetOf(ctx);
  const values = new Map<string, unknown>();
  let unread = ids;
  if (budget) {
    await budget.inTurn(async () => {
      const inline = inlineBytes(budget, ids.length);
      const rows = await sizesWithSmallValues(ctx, field, ids, inline);
      const size = new Map(rows.map((r) => [r.id, r.bytes ?? 0]));
      // Every occurrence is sent: the same row under two aliases counts twice.
      budget.take(batch.ids.reduce((sum, id) => sum + (size.get(id) ?? 0), 0));
      for (const r of rows) if (r.bytes === null || r.bytes <= inline) values.set(r.id, r.value);
      unread = rows.filter((r) => !values.has(r.id)).map((r) => r.id);
    });
  }
  if (unread.length > 0) {
    const { rows } = await ctx.services.pool.query<{ id: string; value: unknown }>(
      `SELECT id::text AS id, "${column}" AS value FROM "${table}" WHERE id = ANY($1)`,
      [unread],
    );
    for (const r of rows) values.set(r.id, r.value);
  }
  for (const w of batch.waiters) w.resolve(values.get(w.id) ?? null);
}
