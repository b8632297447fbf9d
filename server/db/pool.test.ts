import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_POSTGRES_URL } from '../test/database.ts';
import { createPool } from './pool.ts';

const ours = createPool(TEST_POSTGRES_URL, 1);
const theirs = new pg.Pool({ connectionString: TEST_POSTGRES_URL, max: 1 }); // made after ours: a library's, a test's
afterAll(() => Promise.all([ours.end(), theirs.end()]));

const SQL = `SELECT 12.50000001::numeric AS amount, 9007199254740991::bigint AS id, 7::int AS n, '2026-01-02'::date AS day`;

describe('the process pool reads numbers as numbers, and only the process pool', () => {
  it('NUMERIC and BIGINT come back as JS numbers on our pool', async () => {
    const { rows } = await ours.query(SQL);
    expect(rows[0]).toMatchObject({ amount: 12.50000001, id: 9007199254740991, n: 7 });
    expect(rows[0].day).toBeInstanceOf(Date); // other types keep pg's parsers
  });

  it("another pool in the same process keeps pg's defaults (strings), so nothing is set process-wide", async () => {
    const { rows } = await theirs.query(SQL);
    expect(rows[0]).toMatchObject({ amount: '12.50000001', id: '9007199254740991', n: 7 });
    expect(pg.types.getTypeParser(pg.types.builtins.NUMERIC)('1.5')).toBe('1.5');
  });
});
