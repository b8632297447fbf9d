// withTransaction on this project's pools: BEGIN goes out with the transaction's first statement,
// and COMMIT with its last one when the transaction says which (commitWithNext), each in the same
// round trip (pipelined-statement.ts). What a caller sees must not change: all of a transaction's statements
// commit together or none does, whatever fails where, and every connection goes back to the pool
// outside a transaction. Round trips are counted as the ReadyForQuery messages a connection gets.
import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../test/database.ts';
import { createPool } from './pool.ts';
import { withTransaction } from './transaction.ts';
import { commitWithNext } from './named-statements.ts';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;
/** A second pool, to look from outside the transactions. */
let observer: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool(db.url, 2);
  observer = createPool(db.url, 1);
  await observer.query(`CREATE TABLE tx_rows (id int PRIMARY KEY, tx bigint)`);
});
afterAll(async () => {
  await pool?.end();
  await observer?.end();
  await db?.drop();
});

/** Round trips (ReadyForQuery messages) on one connection of a one-connection pool while `fn` runs. */
async function roundTrips(one: pg.Pool, fn: () => Promise<unknown>): Promise<number> {
  const client = await one.connect();
  let n = 0;
  const count = () => n++;
  const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
  connection.on('readyForQuery', count);
  client.release();
  try {
    await fn().catch(() => {});
  } finally {
    connection.off('readyForQuery', count);
  }
  return n;
}

const idleInTransaction = async () =>
  (
    await observer.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
    )
  ).rows[0].n;

describe('withTransaction', () => {
  it('sends BEGIN with the first statement: a transaction of two statements takes three round trips, in one transaction', async () => {
    const one = createPool(db.url, 1);
    try {
      let txs: string[] = [];
      const trips = await roundTrips(one, () =>
        withTransaction(one, async (sql) => {
          const a = await sql.query<{ tx: string }>(`INSERT INTO tx_rows VALUES ($1, txid_current()) RETURNING tx::text`, [1001]);
          const b = await sql.query<{ tx: string }>(`INSERT INTO tx_rows VALUES ($1, txid_current()) RETURNING tx::text`, [1002]);
          txs = [a.rows[0].tx, b.rows[0].tx];
        }),
      );
      expect(trips).toBe(3); // BEGIN with the first statement, the second, COMMIT
      expect(txs[0]).toBe(txs[1]);
      const { rows } = await observer.query(`SELECT id FROM tx_rows WHERE id IN (1001, 1002) ORDER BY id`);
      expect(rows.map((r) => r.id)).toEqual([1001, 1002]);
    } finally {
      await one.end();
    }
  });

  it('a transaction that sends no statement sends nothing, and the connection is not left in a transaction', async () => {
    const one = createPool(db.url, 1);
    try {
      expect(await roundTrips(one, () => withTransaction(one, () => Promise.resolve('nothing')))).toBe(0);
      expect(await roundTrips(one, () => withTransaction(one, () => Promise.reject(new Error('before any statement'))))).toBe(0);
      // The connection's next statement commits on its own: another connection sees it at once.
      await one.query(`INSERT INTO tx_rows VALUES ($1, NULL)`, [1003]);
      expect((await observer.query(`SELECT count(*)::int AS n FROM tx_rows WHERE id = 1003`)).rows[0].n).toBe(1);
    } finally {
      await one.end();
    }
  });

  it('a first statement that fails commits nothing, and the same statement runs again afterwards', async () => {
    const insertThenFail = `INSERT INTO tx_rows SELECT $1, 1 / $2::int`;
    await expect(withTransaction(pool, (sql) => sql.query(insertThenFail, [1004, 0]))).rejects.toThrow(/division by zero/);
    await expect(withTransaction(pool, (sql) => sql.query(`SELECT nope FROM tx_rows WHERE id = $1`, [1]))).rejects.toThrow(
      /column "nope" does not exist/,
    );
    await expect(withTransaction(pool, (sql) => sql.query(`SELECT nope FROM tx_rows WHERE id = $1`, [1]))).rejects.toThrow(
      /column "nope" does not exist/,
    );
    await withTransaction(pool, (sql) => sql.query(insertThenFail, [1004, 1]));
    expect((await observer.query(`SELECT count(*)::int AS n FROM tx_rows WHERE id = 1004`)).rows[0].n).toBe(1);
    expect(await idleInTransaction()).toBe(0);
  });

  it("takes a first statement in any of pg's forms, awaited or not, and refuses what cannot go with BEGIN", async () => {
    // Not awaited, then a throw: the statement still belongs to the transaction and is rolled back.
    await expect(
      withTransaction(pool, (sql) => {
        sql.query(`INSERT INTO tx_rows VALUES (2001, NULL)`).catch(() => {});
        return Promise.reject(new Error('thrown after an unawaited statement'));
      }),
    ).rejects.toThrow(/unawaited/);
    // Callback style, and a config object.
    await withTransaction(
      pool,
      (sql) =>
        new Promise<void>((resolve, reject) => {
          (sql as unknown as { query: (t: string, v: unknown[], cb: (err: Error | null) => void) => void }).query(
            `INSERT INTO tx_rows VALUES ($1, txid_current())`,
            [2002],
            (err) => (err ? reject(err) : resolve()),
          );
        }),
    );
    await withTransaction(pool, (sql) => sql.query({ text: `INSERT INTO tx_rows VALUES ($1, txid_current())`, values: [2003] }));
    // More values than a named statement takes: unnamed, still with BEGIN.
    const many = Array.from({ length: 70 }, (_, i) => i);
    const wide = `INSERT INTO tx_rows SELECT 2004, ${many.map((i) => `$${i + 1}::int`).join(' + ')}`;
    await withTransaction(pool, (sql) => sql.query(wide, many));
    // Several statements in one text travel only by the simple protocol: PostgreSQL refuses them here.
    await expect(withTransaction(pool, (sql) => sql.query(`INSERT INTO tx_rows VALUES (2005, NULL); SELECT 1`))).rejects.toThrow(
      /cannot insert multiple commands into a prepared statement/,
    );
    // A value pg cannot serialize fails before anything but BEGIN ran; the transaction is rolled back.
    const unserializable = {
      toPostgres: () => {
        throw new Error('cannot serialize');
      },
    };
    await expect(
      withTransaction(pool, (sql) => sql.query(`INSERT INTO tx_rows VALUES (2006, $1::bigint)`, [unserializable])),
    ).rejects.toThrow(/cannot serialize/);
    // A Submittable (a cursor) is refused before anything is sent.
    await expect(withTransaction(pool, (sql) => sql.query({ submit: () => null } as unknown as string))).rejects.toThrow(/Submittable/);
    const { rows } = await observer.query(`SELECT id, tx IS NOT NULL AS "inTx" FROM tx_rows WHERE id BETWEEN 2001 AND 2006 ORDER BY id`);
    expect(rows).toEqual([
      { id: 2002, inTx: true },
      { id: 2003, inTx: true },
      { id: 2004, inTx: true },
    ]);
    expect(await idleInTransaction()).toBe(0);
  });

  it('a connection that dies under the first statement fails the transaction, and the pool goes on', async () => {
    const one = createPool(db.url, 1);
    try {
      const pid = (await one.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`)).rows[0].pid;
      const sleeping = withTransaction(one, (sql) => sql.query(`INSERT INTO tx_rows SELECT 2101, 1 FROM pg_sleep($1)`, [5]));
      for (let i = 0; i < 100; i++) {
        const { rows } = await observer.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'PgSleep'`, [pid]);
        if (rows.length) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await observer.query(`SELECT pg_terminate_backend($1)`, [pid]);
      await expect(sleeping).rejects.toThrow();
      await withTransaction(one, (sql) => sql.query(`INSERT INTO tx_rows VALUES ($1, txid_current())`, [2102]));
      const { rows } = await observer.query(`SELECT id FROM tx_rows WHERE id IN (2101, 2102) ORDER BY id`);
      expect(rows.map((r) => r.id)).toEqual([2102]);
    } finally {
      await one.end();
    }
  });

  // The class: any sequence of statements (with or without values, awaited or not, failing at run time or at
  // parse time) and of throws, several transactions at once on a pool of two connections. A
  // transaction's rows are there exactly when it ran to its end; no connection stays in a transaction.
  it('commits a transaction whole exactly when it runs to its end, whatever fails where (property)', async () => {
    const step = fc.constantFrom(
      'insert',
      'insert-no-values',
      'insert-not-awaited',
      'select-no-values',
      'fails-running',
      'fails-parsing',
      'throws',
    );
    let nextId = 10_000;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(step, { maxLength: 4 }), { minLength: 1, maxLength: 4 }), async (transactions) => {
        const committed: number[][] = [];
        await Promise.all(
          transactions.map(async (steps) => {
            const ids: number[] = [];
            const ok = steps.every((s) => s.startsWith('insert') || s === 'select-no-values');
            const outcome = withTransaction(pool, async (sql) => {
              for (const s of steps) {
                const id = nextId++;
                if (s === 'insert') await sql.query(`INSERT INTO tx_rows VALUES ($1, txid_current())`, [id]);
                else if (s === 'insert-no-values') await sql.query(`INSERT INTO tx_rows VALUES (${id}, txid_current())`);
                // Sent and left: the statements after it, and the COMMIT or ROLLBACK, queue behind it.
                else if (s === 'insert-not-awaited') void sql.query(`INSERT INTO tx_rows VALUES (${id}, txid_current())`).catch(() => {});
                else if (s === 'select-no-values') await sql.query(`SELECT 1`);
                else if (s === 'fails-running') await sql.query(`INSERT INTO tx_rows SELECT $1, 1 / $2::int`, [id, 0]);
                else if (s === 'fails-parsing') await sql.query(`SELECT nope FROM tx_rows WHERE id = $1`, [id]);
                else throw new Error('thrown by the transaction');
                if (s.startsWith('insert')) ids.push(id);
              }
            });
            if (ok) {
              await outcome;
              committed.push(ids);
            } else {
              const failing = steps.find((s) => !s.startsWith('insert') && s !== 'select-no-values');
              const message =
                failing === 'fails-running' ? /division by zero/ : failing === 'fails-parsing' ? /column "nope" does not exist/ : /thrown/;
              await expect(outcome).rejects.toThrow(message);
            }
          }),
        );
        const { rows } = await observer.query<{ id: number; tx: string }>(`DELETE FROM tx_rows WHERE id >= 10000 RETURNING id, tx::text`);
        expect(rows.map((r) => r.id).sort((a, b) => a - b)).toEqual(committed.flat().sort((a, b) => a - b));
        // Each committed transaction's rows were written by one database transaction.
        const txOf = new Map(rows.map((r) => [r.id, r.tx]));
        for (const ids of committed) expect(new Set(ids.map((id) => txOf.get(id))).size).toBeLessThanOrEqual(1);
        expect(await idleInTransaction()).toBe(0);
      }),
      { numRuns: 60 },
    );
  });
});

describe('withTransaction, COMMIT with the last statement (commitWithNext)', () => {
  const inserted = async (ids: number[]) =>
    (await observer.query<{ id: number }>(`SELECT id FROM tx_rows WHERE id = ANY($1) ORDER BY id`, [ids])).rows.map((r) => r.id);

  it('commits with the last statement: two statements take two round trips, in one transaction, committed when it answers', async () => {
    const one = createPool(db.url, 1);
    try {
      let txs: string[] = [];
      let seenOutside: number[] = [];
      const trips = await roundTrips(one, () =>
        withTransaction(one, async (sql) => {
          const a = await sql.query<{ tx: string }>(`INSERT INTO tx_rows VALUES ($1, txid_current()) RETURNING tx::text`, [3001]);
          commitWithNext(sql);
          const b = await sql.query<{ tx: string }>(`INSERT INTO tx_rows VALUES ($1, txid_current()) RETURNING tx::text`, [3002]);
          // Committed as the statement answered, before withTransaction returns.
          seenOutside = await inserted([3001, 3002]);
          txs = [a.rows[0].tx, b.rows[0].tx];
        }),
      );
      expect(trips).toBe(2);
      expect(txs[0]).toBe(txs[1]);
      expect(seenOutside).toEqual([3001, 3002]);
      // A one-statement transaction: BEGIN, the statement and COMMIT in one round trip.
      expect(
        await roundTrips(one, () =>
          withTransaction(one, async (sql) => {
            commitWithNext(sql);
            await sql.query(`INSERT INTO tx_rows VALUES ($1, txid_current())`, [3003]);
          }),
        ),
      ).toBe(1);
      expect(await inserted([3003])).toEqual([3003]);
    } finally {
      await one.end();
    }
  });

  it('a last statement that fails commits nothing of the transaction, and the connection goes on', async () => {
    const one = createPool(db.url, 1);
    try {
      // Failing as it runs, and failing to parse: the statements before it are rolled back.
      for (const [id, last] of [
        [3101, `INSERT INTO tx_rows SELECT $1, 1 / $2::int`],
        [3102, `SELECT nope FROM tx_rows WHERE id = $1 AND $2::int = 0`],
      ] as const) {
        await expect(
          withTransaction(one, async (sql) => {
            await sql.query(`INSERT INTO tx_rows VALUES ($1, NULL)`, [id + 10]);
            commitWithNext(sql);
            await sql.query(last, [id, 0]);
          }),
        ).rejects.toThrow(/division by zero|column "nope" does not exist/);
        expect(await inserted([id, id + 10])).toEqual([]);
      }
      // A value pg cannot serialize: nothing reaches the server but Parse, the transaction is rolled back.
      const unserializable = {
        toPostgres: () => {
          throw new Error('cannot serialize');
        },
      };
      await expect(
        withTransaction(one, async (sql) => {
          await sql.query(`INSERT INTO tx_rows VALUES ($1, NULL)`, [3103]);
          commitWithNext(sql);
          await sql.query(`INSERT INTO tx_rows VALUES (3104, $1::bigint)`, [unserializable]);
        }),
      ).rejects.toThrow(/cannot serialize/);
      expect(await inserted([3103, 3104])).toEqual([]);
      // The failing statements' text runs again afterwards on this connection (a statement that
      // failed as it ran or parsed is not left half-known to pg's client). Not the one whose value
      // pg could not serialize: pg then closes the statement it parsed yet notes it as parsed, so
      // that text fails on this connection from then on ("prepared statement … does not exist"),
      // with or without this project's pipelining.
      await withTransaction(one, async (sql) => {
        commitWithNext(sql);
        await sql.query(`INSERT INTO tx_rows SELECT $1, 1 / $2::int`, [3101, 1]);
      });
      await expect(
        withTransaction(one, async (sql) => {
          commitWithNext(sql);
          await sql.query(`SELECT nope FROM tx_rows WHERE id = $1 AND $2::int = 0`, [3102, 0]);
        }),
      ).rejects.toThrow(/column "nope" does not exist/);
      expect(await inserted([3101])).toEqual([3101]);
      expect(await idleInTransaction()).toBe(0);
    } finally {
      await one.end();
    }
  });

  it('refuses a statement after the last one, and a throw after a committed last statement keeps what committed', async () => {
    await expect(
      withTransaction(pool, async (sql) => {
        commitWithNext(sql);
        await sql.query(`INSERT INTO tx_rows VALUES ($1, NULL)`, [3201]);
        await sql.query(`INSERT INTO tx_rows VALUES ($1, NULL)`, [3202]);
      }),
    ).rejects.toThrow(/nothing more can be sent/);
    await expect(
      withTransaction(pool, async (sql) => {
        commitWithNext(sql);
        await sql.query(`INSERT INTO tx_rows VALUES ($1, NULL)`, [3203]);
        throw new Error('thrown after the commit');
      }),
    ).rejects.toThrow(/after the commit/);
    expect(await inserted([3201, 3202, 3203])).toEqual([3201, 3203]);
    // Asked for and never used (the transaction sent nothing, or threw first): nothing is left pending on the connection.
    await expect(
      withTransaction(pool, (sql) => {
        commitWithNext(sql);
        return Promise.reject(new Error('before the statement'));
      }),
    ).rejects.toThrow(/before the statement/);
    await withTransaction(pool, (sql) => {
      commitWithNext(sql);
      return Promise.resolve();
    });
    for (let i = 0; i < 2; i++) await pool.query(`INSERT INTO tx_rows VALUES ($1, NULL)`, [3204 + i]);
    expect(await inserted([3204, 3205])).toEqual([3204, 3205]);
    expect(await idleInTransaction()).toBe(0);
  });

  it('a COMMIT that fails fails the statement: nothing is committed', async () => {
    const one = createPool(db.url, 1);
    try {
      await observer.query(`CREATE TABLE IF NOT EXISTS tx_unique (id int, CONSTRAINT once UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)`);
      await expect(
        withTransaction(one, async (sql) => {
          await sql.query(`INSERT INTO tx_rows VALUES ($1, NULL)`, [3301]);
          commitWithNext(sql);
          // Checked at COMMIT: the statement succeeds, its COMMIT fails.
          await sql.query(`INSERT INTO tx_unique VALUES ($1), ($1)`, [7]);
        }),
      ).rejects.toThrow(/duplicate key value violates unique constraint "once"/);
      expect(await inserted([3301])).toEqual([]);
      expect((await observer.query(`SELECT count(*)::int AS n FROM tx_unique`)).rows[0].n).toBe(0);
      expect(await idleInTransaction()).toBe(0);
    } finally {
      await one.end();
    }
  });

  // The class: any transaction of statements (awaited or not, failing at run or parse time, throws)
  // whose last statement, or whose first, carries the COMMIT. Its rows are there exactly when that
  // statement succeeded and nothing before it failed; no connection stays in a transaction.
  it('commits exactly what ran before and with the last statement, whatever fails where (property)', async () => {
    const step = fc.constantFrom('insert', 'insert-no-values', 'fails-running', 'fails-parsing', 'throws');
    const lastStep = fc.constantFrom('insert', 'insert-no-values', 'insert-not-awaited', 'fails-running', 'fails-parsing');
    let nextId = 20_000;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ before: fc.array(step, { maxLength: 3 }), last: lastStep, after: fc.constantFrom('nothing', 'throws', 'query') }),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        async (transactions) => {
          const committed: number[] = [];
          await Promise.all(
            transactions.map(async ({ before, last, after }) => {
              const ids: number[] = [];
              const run = async (s: string, sql: pg.PoolClient) => {
                const id = nextId++;
                if (s === 'insert') await sql.query(`INSERT INTO tx_rows VALUES ($1, txid_current())`, [id]);
                else if (s === 'insert-no-values') await sql.query(`INSERT INTO tx_rows VALUES (${id}, txid_current())`);
                else if (s === 'insert-not-awaited') {
                  const sent = sql.query(`INSERT INTO tx_rows VALUES (${id}, txid_current())`);
                  sent.catch(() => {});
                } else if (s === 'fails-running') await sql.query(`INSERT INTO tx_rows SELECT $1, 1 / $2::int`, [id, 0]);
                else if (s === 'fails-parsing') await sql.query(`SELECT nope FROM tx_rows WHERE id = $1`, [id]);
                else throw new Error('thrown by the transaction');
                if (s.startsWith('insert')) ids.push(id);
              };
              const outcome = withTransaction(pool, async (sql) => {
                for (const s of before) await run(s, sql);
                commitWithNext(sql);
                await run(last, sql);
                if (after === 'throws') throw new Error('thrown after the last statement');
                if (after === 'query') await sql.query(`SELECT 1`);
              });
              const beforeOk = before.every((s) => s.startsWith('insert'));
              const lastOk = last.startsWith('insert');
              const settled = await outcome.then(
                () => null,
                (err: unknown) => err as Error,
              );
              if (beforeOk && lastOk) {
                // Committed with the last statement, whatever the transaction did afterwards.
                committed.push(...ids);
                if (after === 'nothing') expect(settled).toBeNull();
                else expect(settled?.message).toMatch(after === 'throws' ? /thrown after/ : /nothing more can be sent/);
              } else expect(settled).toBeInstanceOf(Error);
            }),
          );
          // The not-awaited last statement may still be on its way: the pool's connections finish in order.
          await Promise.all([pool.query('SELECT 1'), pool.query('SELECT 1')]);
          const { rows } = await observer.query<{ id: number; tx: string }>(`DELETE FROM tx_rows WHERE id >= 20000 RETURNING id, tx::text`);
          expect(rows.map((r) => r.id).sort((a, b) => a - b)).toEqual(committed.sort((a, b) => a - b));
          expect(await idleInTransaction()).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });
});
