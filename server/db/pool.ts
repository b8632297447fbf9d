import pg from 'pg';
import { NamedStatementClient } from './named-statements.ts';

// DECIMAL and BIGINT as JS numbers in raw queries: money has 8 decimals, far inside double precision
// for the amounts a budget can hold, and event ids stay below 2^53. Set on this process's pools
// only (pg's `types` option), not process-wide: other pg clients in the process (a library's, a
// test's) keep pg's defaults, and Prisma's adapter passes its own parsers with every query.
const NUMBER_TYPES = new Set<number>([pg.types.builtins.NUMERIC, pg.types.builtins.INT8]);
const types: pg.CustomTypesConfig = {
  // pg-types types its parsers `any`; this module only hands pg's own parser back, untouched.
  getTypeParser: (oid, format) =>
    format !== 'binary' && NUMBER_TYPES.has(oid) ? (v: string) => Number(v) : (pg.types.getTypeParser(oid, format) as unknown),
};

export function createPool(connectionString: string, max = 10, opts: { applicationName?: string } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    // Our parameterized statements are prepared once per connection (see named-statements.ts).
    Client: NamedStatementClient,
    connectionTimeoutMillis: 10_000,
    types,
    ...(opts.applicationName ? { application_name: opts.applicationName } : {}),
  });
  // An idle client losing its connection (e.g. Postgres restarting) must not crash the process.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}
