import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDatamodel } from './generated/pothos-types.ts';
import * as Enums from './generated/enums.ts';
import { applyMigrations } from './migrate.ts';
import { createTestDatabase } from '../test/database.ts';

// The generated client's data model (models, fields, kinds, nullability) plus the native types
// that schema.prisma declares with @db attributes.
const datamodel = getDatamodel().datamodel.models;
const schemaText = readFileSync(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8');

function nativeType(model: string, field: string): string | undefined {
  const block = new RegExp(`model ${model} \\{([\\s\\S]*?)\\n\\}`).exec(schemaText)?.[1] ?? '';
  const line = block.split('\n').find((l) => l.trim().split(/\s+/)[0] === field);
  return /@db\.(\w+(\([^)]*\))?)/.exec(line ?? '')?.[1];
}

function expectedColumnType(
  model: string,
  field: { name: string; type: string; kind: string },
): { udt: string; precision?: [number, number] } {
  if (field.kind === 'enum') return { udt: field.type };
  const native = nativeType(model, field.name);
  switch (field.type) {
    case 'String':
      return { udt: native === 'Uuid' ? 'uuid' : 'text' };
    case 'Int':
      return { udt: 'int4' };
    case 'BigInt':
      return { udt: 'int8' };
    case 'Boolean':
      return { udt: 'bool' };
    case 'Json':
      return { udt: native === 'Json' ? 'json' : 'jsonb' };
    case 'DateTime':
      return { udt: native?.startsWith('Timestamptz') ? 'timestamptz' : 'timestamp' };
    case 'Decimal': {
      const m = /Decimal\((\d+),\s*(\d+)\)/.exec(native ?? '');
      return { udt: 'numeric', precision: m ? [Number(m[1]), Number(m[2])] : [65, 30] };
    }
    default:
      throw new Error(`no mapping for ${field.type}`);
  }
}

describe('the migrated database and prisma/schema.prisma', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;
  let columns: Map<string, { udt_name: string; is_nullable: string; numeric_precision: number | null; numeric_scale: number | null }>;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url });
    await applyMigrations(pool);
    const { rows } = await pool.query(
      `SELECT table_name, column_name, udt_name, is_nullable, numeric_precision, numeric_scale
       FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    columns = new Map(rows.map((r) => [`${r.table_name}.${r.column_name}`, r]));
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('has a table for every model and a column of the right type and nullability for every field', () => {
    const problems: string[] = [];
    for (const [model, { fields }] of Object.entries(datamodel)) {
      for (const field of fields.filter((f) => f.kind !== 'object')) {
        const col = columns.get(`${model}.${field.name}`);
        if (!col) {
          problems.push(`${model}.${field.name}: no such column`);
          continue;
        }
        const want = expectedColumnType(model, field);
        if (col.udt_name !== want.udt) problems.push(`${model}.${field.name}: column is ${col.udt_name}, model says ${want.udt}`);
        if (want.precision && (col.numeric_precision !== want.precision[0] || col.numeric_scale !== want.precision[1])) {
          problems.push(
            `${model}.${field.name}: numeric(${col.numeric_precision},${col.numeric_scale}), model says ${want.precision.join(',')}`,
          );
        }
        const nullable = col.is_nullable === 'YES';
        if (nullable === field.isRequired)
          problems.push(`${model}.${field.name}: nullable=${nullable}, model says required=${field.isRequired}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('has no column the model does not know (apart from none)', () => {
    const known = new Set(
      Object.entries(datamodel).flatMap(([model, { fields }]) =>
        fields.filter((f) => f.kind !== 'object').map((f) => `${model}.${f.name}`),
      ),
    );
    const extra = [...columns.keys()].filter((k) => !k.startsWith('_prisma_migrations.') && !known.has(k));
    expect(extra).toEqual([]);
  });

  it('has every enum with exactly the generated values, in order', async () => {
    const { rows } = await pool.query(
      `SELECT t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname`,
    );
    const inDb = Object.fromEntries(rows.map((r) => [r.typname, r.labels]));
    const generated = Object.fromEntries(
      Object.entries(Enums)
        .filter(([, v]) => typeof v === 'object' && v !== null)
        .map(([name, v]) => [name, Object.values(v as Record<string, string>)]),
    );
    expect(Object.keys(generated).length).toBeGreaterThan(0);
    expect(inDb).toEqual(generated);
  });

  it('has the unique indexes the model declares', async () => {
    const { rows } = await pool.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'`);
    const defs = rows.map((r) => r.indexdef as string);
    for (const [model, { uniqueIndexes }] of Object.entries(datamodel)) {
      for (const idx of uniqueIndexes) {
        const cols = idx.fields.map((f) => (/^[a-z_]+$/.test(f) ? f : `"${f}"`)).join(', ');
        expect(
          defs.some((d) => d.startsWith('CREATE UNIQUE INDEX') && d.includes(`ON public."${model}" USING btree (${cols})`)),
          `${model}(${cols})`,
        ).toBe(true);
      }
    }
  });

  it('records every migration folder with the checksum prisma migrate would compute, and applies each once', async () => {
    // Computed here, not by the migrator: Prisma Migrate's checksum is the SHA-256 of the
    // migration.sql file's bytes, as 64 lowercase hex digits (prisma-engines, checksum.rs).
    const dir = new URL('../../prisma/migrations/', import.meta.url);
    const folders = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    expect(folders.length).toBeGreaterThan(0);
    const expected = folders.map((name) => ({
      migration_name: name,
      checksum: createHash('sha256')
        .update(readFileSync(new URL(`${name}/migration.sql`, dir)))
        .digest('hex'),
    }));
    const { rows } = await pool.query(`SELECT migration_name, checksum FROM "_prisma_migrations" ORDER BY migration_name`);
    expect(rows).toEqual(expected);
    expect(await applyMigrations(pool)).toEqual([]);
    expect((await pool.query(`SELECT count(*)::int AS n FROM "_prisma_migrations"`)).rows[0].n).toBe(folders.length);
  });
});
