// How the compiled read plan (compiled-read.ts) writes each supported field as JSON text in SQL:
// byte for byte what the general path's resolver and graphql-js' serialization give (job.ts,
// template.ts, job-event.ts are the reference; compiled-read.test.ts compares the two). A field
// missing here (JSON documents, review, artifacts, computed fields) is outside the compiled subset
// and its document takes the general path.

/** A JSON text expression over the row alias `x` (NULL only where the value would not match: see money). */
export type ColumnJson = (x: string) => string;

const quoted = (sql: string) => `'"' || ${sql} || '"'`;
const orNull = (column: string, json: string) => `CASE WHEN ${column} IS NULL THEN 'null' ELSE ${json} END`;

const id: ColumnJson = (x) => quoted(`${x}.id::text`);
const int =
  (column: string): ColumnJson =>
  (x) =>
    `${x}."${column}"::text`;
const intOrNull =
  (column: string): ColumnJson =>
  (x) =>
    `COALESCE(${x}."${column}"::text, 'null')`;
const uuid =
  (column: string): ColumnJson =>
  (x) =>
    quoted(`${x}."${column}"::text`);
/** Any text: to_json escapes as JSON.stringify does (", \, control characters; nothing else). */
const text =
  (column: string): ColumnJson =>
  (x) =>
    `to_json(${x}."${column}")::text`;
const textOrNull =
  (column: string): ColumnJson =>
  (x) =>
    `COALESCE(to_json(${x}."${column}")::text, 'null')`;
/** An enum's value is its name (an identifier: nothing to escape). */
const enumName =
  (column: string): ColumnJson =>
  (x) =>
    quoted(`${x}."${column}"::text`);
const enumOrNull =
  (column: string): ColumnJson =>
  (x) =>
    orNull(`${x}."${column}"`, quoted(`${x}."${column}"::text`));
const bool =
  (column: string): ColumnJson =>
  (x) =>
    `CASE WHEN ${x}."${column}" THEN 'true' ELSE 'false' END`;
/** DateTime: graphql-scalars hands JSON.stringify the Date, which writes toISOString() (UTC, milliseconds). */
const dateTimeSql = (column: string) => quoted(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
const dateTime =
  (column: string): ColumnJson =>
  (x) =>
    dateTimeSql(`${x}."${column}"`);
const dateTimeOrNull =
  (column: string): ColumnJson =>
  (x) =>
    orNull(`${x}."${column}"`, dateTimeSql(`${x}."${column}"`));
/**
 * Money (numeric(18, 8)) as the API's Float: usd() is the double nearest to the amount, and
 * JSON.stringify writes the shortest text that reads back as it. For an amount of at most 15
 * significant digits (float8 -> numeric keeps 15, so the round trip is exact) and at least 1e-6 (below,
 * JavaScript writes an exponent), that text is the amount without trailing zeros: trim_scale. Any
 * other amount is NULL, which makes the whole answer NULL: the request takes the general path.
 */
const moneySql = (c: string) =>
  `CASE WHEN ${c} = 0 OR (abs(${c}) >= 0.000001 AND ${c}::float8::numeric = ${c}) THEN trim_scale(${c})::text END`;
const money =
  (column: string): ColumnJson =>
  (x) =>
    moneySql(`${x}."${column}"`);
const moneyOrNull =
  (column: string): ColumnJson =>
  (x) =>
    orNull(`${x}."${column}"`, moneySql(`${x}."${column}"`));

/** Per object type, its scalar fields the compiled plan answers. */
export const COLUMN_JSON: Record<string, Record<string, ColumnJson>> = {
  Job: {
    id,
    state: enumName('state'),
    templateVersion: int('templateVersion'),
    idempotencyKey: textOrNull('idempotencyKey'),
    costUsd: money('costUsd'),
    maxCostUsd: moneyOrNull('maxCostUsd'),
    attemptCount: int('attemptCount'),
    feedback: textOrNull('feedback'),
    lastError: textOrNull('lastError'),
    createdBy: text('createdBy'),
    createdAt: dateTime('createdAt'),
    updatedAt: dateTime('updatedAt'),
    finishedAt: dateTimeOrNull('finishedAt'),
  },
  JobAttempt: {
    id,
    number: int('number'),
    state: enumName('state'),
    executor: text('executor'),
    startedAt: dateTime('startedAt'),
    finishedAt: dateTimeOrNull('finishedAt'),
    exitReason: textOrNull('exitReason'),
    errorCode: textOrNull('errorCode'),
    costUsd: money('costUsd'),
    inputTokens: int('inputTokens'),
    outputTokens: int('outputTokens'),
    feedback: textOrNull('feedback'),
    baseCommit: textOrNull('baseCommit'),
  },
  JobEvent: {
    // A bigint: the resolver answers String(id).
    id,
    seq: int('seq'),
    jobId: uuid('jobId'),
    type: enumName('type'),
    fromState: enumOrNull('fromState'),
    toState: enumOrNull('toState'),
    message: textOrNull('message'),
    actor: text('actor'),
    attemptNumber: intOrNull('attemptNumber'),
    createdAt: dateTime('createdAt'),
  },
  Template: {
    id,
    slug: text('slug'),
    version: int('version'),
    name: text('name'),
    description: text('description'),
    requiresReview: bool('requiresReview'),
    maxAttempts: int('maxAttempts'),
    timeoutSeconds: int('timeoutSeconds'),
    createdAt: dateTime('createdAt'),
    updatedAt: dateTime('updatedAt'),
  },
};

/** Pothos' cursor of a row (base64 of `GPC:` and @pothos/core's tagged chunk), as JSON text. */
export const CURSOR_JSON: Record<'Job' | 'JobAttempt' | 'JobEvent', ColumnJson> = {
  // cursor: 'id' → `S:<id>`
  Job: (x) => base64Json(`'GPC:S:' || ${x}.id::text`),
  // cursor: 'jobId_number' → `T:["S:<jobId>","N:<number>"]`
  JobAttempt: (x) => base64Json(`'GPC:T:["S:' || ${x}."jobId"::text || '","N:' || ${x}.number::text || '"]'`),
  // cursor: 'jobId_seq' → `T:["S:<jobId>","N:<seq>"]`
  JobEvent: (x) => base64Json(`'GPC:T:["S:' || ${x}."jobId"::text || '","N:' || ${x}.seq::text || '"]'`),
};

/** PostgreSQL's base64 breaks lines every 76 characters; Buffer's does not. */
const base64Json = (sql: string) => quoted(`translate(encode(convert_to(${sql}, 'UTF8'), 'base64'), E'\\n', '')`);
