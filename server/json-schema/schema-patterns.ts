// Where a JSON Schema (draft-07, plus the 2019/2020 names ajv also knows) holds subschemas.
const ONE = [
  'additionalProperties',
  'additionalItems',
  'items',
  'contains',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
  'unevaluatedItems',
  'unevaluatedProperties',
];
const MAP = ['properties', 'patternProperties', 'definitions', '$defs', 'dependencies', 'dependentSchemas'];
const LIST = ['allOf', 'anyOf', 'oneOf', 'items', 'prefixItems'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const member = (path: string, key: string) => (/^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`);

/**
 * Every regular expression a schema will run on data: `pattern` values and `patternProperties`
 * keys, each with the path of the field that holds it (`inputSchema.properties.zip.pattern`).
 */
export function* patternsOf(schema: unknown, path: string): Generator<{ field: string; pattern: string }> {
  if (!isObject(schema)) return;
  if (typeof schema.pattern === 'string') yield { field: `${path}.pattern`, pattern: schema.pattern };
  if (isObject(schema.patternProperties)) {
    for (const key of Object.keys(schema.patternProperties)) yield { field: member(`${path}.patternProperties`, key), pattern: key };
  }
  for (const k of ONE) yield* patternsOf(schema[k], `${path}.${k}`);
  for (const k of MAP) {
    const map = schema[k];
    if (isObject(map)) for (const [key, sub] of Object.entries(map)) yield* patternsOf(sub, member(`${path}.${k}`, key));
  }
  for (const k of LIST) {
    const list = schema[k];
    if (Array.isArray(list)) for (let i = 0; i < list.length; i++) yield* patternsOf(list[i], `${path}.${k}[${i}]`);
  }
}
