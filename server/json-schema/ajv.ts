import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Ajv, Options, ValidateFunction } from 'ajv';
import { linearFormats } from './linear-formats.ts';
import { compiledInstructions, linearRegExp } from './linear-regexp.ts';
import { uniqueItemsLinear } from './unique-items.ts';

// ajv and ajv-formats (CommonJS) load at first use: importing them was ~130 ms of a warm start's CPU
// profile, and a server validates nothing before a template, a job or a runner's output arrives.
const require = createRequire(import.meta.url);
let loaded: { Ajv: typeof Ajv; addFormats: (a: Ajv) => Ajv } | undefined;
const ajvModules = () =>
  (loaded ??= {
    Ajv: (require('ajv') as typeof import('ajv')).Ajv,
    addFormats: require('ajv-formats') as (a: Ajv) => Ajv,
  });

const OPTIONS: Options = { allErrors: true, strict: false, allowUnionTypes: true };

let shared: Ajv | undefined;
/**
 * The Ajv for the schemas AutoDev ships in schemas/ (template definitions, runner events): reviewed
 * code, each compiled once. It also checks users' schemas against the JSON Schema meta-schema.
 */
export function sharedAjv(): Ajv {
  if (!shared) {
    const { Ajv, addFormats } = ajvModules();
    shared = new Ajv(OPTIONS);
    addFormats(shared);
  }
  return shared;
}

/**
 * A fresh Ajv for one schema a user wrote: every pattern and format runs on RE2 (linear time),
 * uniqueItems in linear time, and nothing is shared, so a `$id` never collides with another
 * template's and a `$ref` resolves only inside the schema itself (no remote loading).
 */
function userSchemaAjv(): Ajv {
  const { Ajv, addFormats } = ajvModules();
  const a = new Ajv({ ...OPTIONS, code: { regExp: linearRegExp }, validateSchema: false, addUsedSchema: false });
  addFormats(a);
  for (const [name, format] of Object.entries(linearFormats)) a.addFormat(name, format);
  a.removeKeyword('uniqueItems');
  a.addKeyword(uniqueItemsLinear);
  return a;
}

/**
 * Bounds of the compiled-validator cache: a count, and an estimate of the bytes they hold (their
 * JSON text plus ~100 bytes per RE2 instruction, measured: 500 schemas with `x{899}` held 47 MiB).
 */
export const VALIDATOR_CACHE = { maxEntries: 500, maxBytes: 64 * 1024 * 1024 };
const BYTES_PER_INSTRUCTION = 100;

const cache = new Map<string, { validate: ValidateFunction; bytes: number }>();
let cachedBytes = 0;

/**
 * Compiles a user's schema once per distinct JSON text. The cache is an LRU bounded in entries
 * and bytes; each entry owns its Ajv, so dropping it frees everything it compiled.
 * Throws when the schema cannot be compiled (unresolvable `$ref`, a pattern RE2 refuses).
 */
export function compileUserSchema(schema: object): ValidateFunction {
  const text = JSON.stringify(schema);
  const key = createHash('sha256').update(text).digest('base64url');
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit.validate;
  }
  const before = compiledInstructions();
  const validate = userSchemaAjv().compile(JSON.parse(text));
  const bytes = text.length + (compiledInstructions() - before) * BYTES_PER_INSTRUCTION;
  cache.set(key, { validate, bytes });
  cachedBytes += bytes;
  while (cache.size > VALIDATOR_CACHE.maxEntries || (cachedBytes > VALIDATOR_CACHE.maxBytes && cache.size > 1)) {
    const [oldest, entry] = cache.entries().next().value!;
    cache.delete(oldest);
    cachedBytes -= entry.bytes;
  }
  return validate;
}

/** The name check-output.ts and older callers use. */
export const compile = compileUserSchema;

/** How many compiled validators are held (for tests and the memory figures in RELIABILITY.md). */
export const cachedValidators = () => ({ count: cache.size, bytes: cachedBytes });
