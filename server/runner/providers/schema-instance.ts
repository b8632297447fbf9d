import { createHash } from 'node:crypto';

/**
 * The part of JSON Schema that templates' output schemas use and that an instance is derived from.
 * Output schemas are JSON Schema documents checked when a template is saved; every keyword here is
 * optional, so a schema using others simply reads as a looser one.
 */
export interface InstanceSchema {
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  examples?: unknown;
  anyOf?: InstanceSchema[];
  oneOf?: InstanceSchema[];
  type?: string | string[];
  properties?: Record<string, InstanceSchema>;
  items?: InstanceSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
}

export interface InstanceContext {
  /** A short subject for generated text, e.g. the job input's title. */
  subject: string;
  /** Deterministic variety: the same seed gives the same instance. */
  seed: string;
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40) || 'change';

function pick<T>(seed: string, items: T[]): T {
  const n = createHash('sha256').update(seed).digest().readUInt32BE(0);
  return items[n % items.length];
}

function fitLength(text: string, s: InstanceSchema): string {
  let out = text;
  if (typeof s.minLength === 'number') while (out.length < s.minLength) out += ` ${text}`;
  if (typeof s.maxLength === 'number') out = out.slice(0, s.maxLength);
  return out;
}

function textFor(name: string, s: InstanceSchema, ctx: InstanceContext): string {
  if (s.format === 'date-time') return new Date(0).toISOString();
  if (s.format === 'uri') return `https://example.com/${slug(ctx.subject)}`;
  if (s.format === 'email') return 'owner@example.com';
  const n = name.toLowerCase();
  if (n === 'path') return `src/${slug(ctx.subject)}.ts`;
  if (n === 'content')
    return `// ${ctx.subject}\nexport function ${slug(ctx.subject).replace(/-(.)/g, (_, c: string) => c.toUpperCase()) || 'change'}(): boolean {\n  return true;\n}\n`;
  if (n.includes('summary')) return `Offline run for "${ctx.subject}": the crew completed every task deterministically.`;
  if (n.includes('cause')) return `A missing check in the code path behind "${ctx.subject}".`;
  if (n.includes('owner')) return pick(ctx.seed, ['platform-team', 'web-team', 'payments-team']);
  if (n.includes('category')) return pick(ctx.seed, ['functional', 'ui', 'performance']);
  return `${name || 'item'} for ${ctx.subject}`;
}

/** A value valid against `schema` (the subset of JSON Schema templates use), derived from `ctx`. */
export function schemaInstance(schema: InstanceSchema, ctx: InstanceContext, name = ''): unknown {
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum)) return pick(`${ctx.seed}:${name}`, schema.enum);
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  const branch = schema.anyOf?.[0] ?? schema.oneOf?.[0];
  if (branch) return schemaInstance(branch, ctx, name);
  const type = Array.isArray(schema.type) ? (schema.type.find((t) => t !== 'null') ?? schema.type[0]) : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const props = schema.properties ?? {};
      for (const [key, sub] of Object.entries(props)) out[key] = schemaInstance(sub, ctx, key);
      return out;
    }
    case 'array': {
      const count = Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 2, 2));
      const items: unknown[] = [];
      for (let i = 0; i < count; i++) {
        let item = schemaInstance(schema.items ?? { type: 'string' }, { ...ctx, seed: `${ctx.seed}:${i}` }, singular(name));
        if (typeof item === 'string' && !schema.items?.enum) item = fitLength(`${i + 1}. ${item}`, schema.items ?? {});
        // A second file of a code change is its test.
        if (name === 'files' && i > 0 && item && typeof item === 'object' && 'path' in item) {
          const source = String(item.path);
          item = { ...item, path: testPath(source), ...('content' in item ? { content: testContent(source, ctx.subject) } : {}) };
        }
        items.push(item);
      }
      return items;
    }
    case 'string':
      return fitLength(textFor(name, schema, ctx), schema);
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 0);
      const max = schema.maximum ?? min + 100;
      const v = Math.min(Math.max(min, 1), max);
      return type === 'integer' ? Math.ceil(v) : v;
    }
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return schema.properties ? schemaInstance({ ...schema, type: 'object' }, ctx, name) : null;
  }
}

const singular = (name: string) => (name.endsWith('s') ? name.slice(0, -1) : name);
const testPath = (p: string) => p.replace(/\.(\w+)$/, '.test.$1');

const testContent = (source: string, subject: string) => {
  const fn = (source.split('/').pop() ?? 'change').replace(/\.\w+$/, '').replace(/-(.)/g, (_, c: string) => c.toUpperCase());
  return `import { describe, expect, it } from 'vitest';\nimport { ${fn} } from './${source
    .split('/')
    .pop()!
    .replace(
      /\.\w+$/,
      '',
    )}';\n\ndescribe('${subject.replace(/'/g, '')}', () => {\n  it('works', () => {\n    expect(${fn}()).toBe(true);\n  });\n});\n`;
};
