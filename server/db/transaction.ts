import type pg from 'pg';
import { NamedStatementClient } from './named-statements.ts';

export type Sql = Pick<pg.PoolClient, 'query'>;

/**
 * Runs `fn` in one transaction on one connection; commits on success, rolls back on any error. On
 * this project's pools (createPool) BEGIN goes out with the transaction's first statement, in one
 * round trip, and COMMIT with its last one when `fn` says which (commitWithNext, see
 * named-statements.ts); a transaction that sent no statement sends no BEGIN either
 * (pipelined-statement.ts).
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const ours = client instanceof NamedStatementClient;
  try {
    if (ours) client.deferBegin();
    else await client.query('BEGIN');
    const result = await fn(client);
    if (!ours || client.endTransaction() === 'open') await client.query('COMMIT');
    return result;
  } catch (err) {
    // Committed with its last statement: there is nothing to roll back.
    const end = ours ? client.endTransaction() : 'open';
    if (end === 'open') await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
