import net from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_POSTGRES_URL } from '../test/database.ts';
import { freePort } from '../test/free-port.ts';
import { classifyDbError } from './db-error.ts';

// Real errors from a real PostgreSQL, a closed port and a server that never answers: classified by
// their codes (and pg's exact code-less texts), whatever their wording.
const pool = new pg.Pool({ connectionString: TEST_POSTGRES_URL, max: 2 });
afterAll(() => pool.end());
const failure = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (err: unknown) => err,
  );

describe('database failures, classified by code', () => {
  it('a value PostgreSQL cannot store or read is invalid data (22021, 22P02); other SQL errors are neither', async () => {
    expect(classifyDbError(await failure(pool.query(`SELECT convert_from('\\xff'::bytea, 'UTF8')`)))).toBe('invalid-data');
    expect(classifyDbError(await failure(pool.query(`SELECT 'not a number'::int`)))).toBe('invalid-data');
    expect(classifyDbError(await failure(pool.query(`SELECT * FROM no_such_table`)))).toBe(null); // 42P01: a bug, not the client's
    expect(classifyDbError(await failure(pool.query(`SELECT 1/0`)))).toBe(null); // 22012 is a data exception, but not the client's value
  });

  it('a connection the server ends (57P01) and a closed port (ECONNREFUSED) are unavailability', async () => {
    const victim = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    victim.on('error', () => {});
    await victim.connect();
    const { rows } = await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const waiting = failure(victim.query('SELECT pg_sleep(30)'));
    await pool.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
    const ended = await waiting;
    expect((ended as { code?: string }).code).toBe('57P01');
    expect(classifyDbError(ended)).toBe('unavailable');
    await victim.end().catch(() => {});

    const closed = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/postgres` });
    expect(classifyDbError(await failure(closed.query('SELECT 1')))).toBe('unavailable');
    await closed.end();
  });

  it("pg-pool's connection timeout and a connection dropped mid-query (pg gives neither a code) are unavailability", async () => {
    const silent = net.createServer(() => {}); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    const stuck = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`, connectionTimeoutMillis: 200 });
    const timedOut = await failure(stuck.query('SELECT 1'));
    expect((timedOut as { code?: string }).code).toBeUndefined();
    expect(classifyDbError(timedOut)).toBe('unavailable');
    await stuck.end();
    silent.close();

    // A connection that drops mid-query (no 57P01 first): pg says so without a code.
    const target = new URL(TEST_POSTGRES_URL);
    const sockets: net.Socket[] = [];
    const proxy = net.createServer((inbound) => {
      const outbound = net.connect(Number(target.port || 5432), target.hostname);
      sockets.push(inbound);
      inbound.on('close', () => outbound.destroy());
      inbound.pipe(outbound).pipe(inbound);
      inbound.on('error', () => {});
      outbound.on('error', () => {});
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const via = new URL(TEST_POSTGRES_URL);
    via.hostname = '127.0.0.1';
    via.port = String((proxy.address() as net.AddressInfo).port);
    const dropped = new pg.Client({ connectionString: via.toString() });
    dropped.on('error', () => {});
    await dropped.connect();
    const waiting = failure(dropped.query('SELECT pg_sleep(5)'));
    for (const socket of sockets) socket.end(); // a clean close, no RST (that would be ECONNRESET)
    const terminated = await waiting;
    expect((terminated as Error).message).toBe('Connection terminated unexpectedly');
    expect(classifyDbError(terminated)).toBe('unavailable');
    proxy.close();
  });

  it('the same failure wrapped by Prisma (its code, the driver SQLSTATE in meta) or in a cause', () => {
    const prisma = (code: string, originalCode?: string) =>
      Object.assign(new Error('Invalid `prisma.template.findMany()` invocation'), {
        name: 'PrismaClientKnownRequestError',
        code,
        meta: originalCode ? { driverAdapterError: { cause: { originalCode, kind: 'postgres' } } } : {},
      });
    expect(classifyDbError(prisma('P1001'))).toBe('unavailable');
    expect(classifyDbError(prisma('P2010', '22021'))).toBe('invalid-data');
    expect(classifyDbError(prisma('P2010', '57P01'))).toBe('unavailable');
    expect(classifyDbError(prisma('P2002'))).toBe(null);
    expect(classifyDbError(new Error('outer', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }))).toBe(
      'unavailable',
    );
    // Wording alone decides nothing: a message that reads like an outage but carries no code of one.
    expect(classifyDbError(new Error('terminating connection due to administrator command'))).toBe(null);
  });
});
