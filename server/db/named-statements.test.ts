import { afterAll, describe, expect, it } from 'vitest';
import { TEST_POSTGRES_URL } from '../test/database.ts';
import { createPool } from './pool.ts';

// One connection, so every statement below runs on the connection whose prepared statements are read.
const pool = createPool(TEST_POSTGRES_URL, 1);
afterAll(() => pool.end());

const prepared = async () =>
  (await pool.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements')).rows.map((r) => r.statement);

describe('the process pool prepares its parameterized statements once per connection', () => {
  it('a statement with values is named after its text, prepared once, and answers each execution with its own values', async () => {
    const text = 'SELECT $1::int + 1 AS n /* named-statements.test */';
    for (let i = 0; i < 3; i++) expect((await pool.query(text, [i])).rows[0].n).toBe(i + 1);
    expect((await prepared()).filter((s) => s === text)).toHaveLength(1);
  });

  it('statements without values, and those with more than 64, stay unnamed', async () => {
    await pool.query('SELECT 1 AS n /* named-statements.test: no values */');
    const many = Array.from({ length: 65 }, (_, i) => i);
    const wide = `SELECT ${many.map((i) => `$${i + 1}::int`).join(' + ')} AS n /* named-statements.test: 65 values */`;
    expect((await pool.query(wide, many)).rows[0].n).toBe((64 * 65) / 2);
    const names = await prepared();
    expect(names.some((s) => s.includes('named-statements.test: no values'))).toBe(false);
    expect(names.some((s) => s.includes('named-statements.test: 65 values'))).toBe(false);
  });

  it('a failing named statement leaves the connection usable, and the statement still runs after', async () => {
    const text = 'SELECT 1 / $1::int AS n /* named-statements.test: divide */';
    await expect(pool.query(text, [0])).rejects.toThrow(/division by zero/);
    expect((await pool.query(text, [1])).rows[0].n).toBe(1);
  });
});
