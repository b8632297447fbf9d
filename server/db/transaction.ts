import type pg from 'pg';
import { NamedStatementClient } from './named-statements.ts';

export type Sql = Pick<pg.PoolClient, 'query'>;

/**
 * Runs `fn` in one transaction on one connection; commits on success, rolls back on any error. On
 * this project's pools (createPool) BEGIN goes out with the transaction's first statement, in one
 * round trip (begin-with-statement.ts); a transaction that sent no statement sends no BEGIN either.
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const deferred = client instanceof NamedStatementClient;
  try {
    if (deferred) client.deferBegin();
    else await client.query('BEGIN');
    const result = await fn(client);
    if (!(deferred && client.dropDeferredBegin())) await client.query('COMMIT');
    return result;
  } catch (err) {
    if (!(deferred && client.dropDeferredBegin())) await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
