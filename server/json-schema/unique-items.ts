import type { FuncKeywordDefinition } from 'ajv';

/** JSON with object keys sorted: equal JSON values (ajv's deep equality) get equal keys. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

type ErrorsHolder = { errors?: object[] };

function uniqueItems(this: unknown, unique: boolean, data: unknown[]): boolean {
  if (!unique) return true;
  const seen = new Map<string, number>();
  for (let i = 0; i < data.length; i++) {
    const key = canonical(data[i]);
    const j = seen.get(key);
    if (j !== undefined) {
      (uniqueItems as ErrorsHolder).errors = [
        { keyword: 'uniqueItems', params: { i, j }, message: `must NOT have duplicate items (items ## ${j} and ${i} are identical)` },
      ];
      return false;
    }
    seen.set(key, i);
  }
  return true;
}

/**
 * `uniqueItems` in time linear in the array (one key per item in a Map). ajv's own compares
 * every pair of object or array items: 300,000 items took minutes of blocked event loop.
 */
export const uniqueItemsLinear: FuncKeywordDefinition = {
  keyword: 'uniqueItems',
  type: 'array',
  schemaType: 'boolean',
  errors: true,
  validate: uniqueItems,
};
