/**
 * What a database failure means to a client, decided from codes — PostgreSQL's SQLSTATE (on pg's
 * errors, and on Prisma's in `meta.driverAdapterError.cause.originalCode`), Prisma's own error
 * codes, Node's socket error codes — never from a message's wording. The one exception: pg and
 * pg-pool (8.x) raise a few connection failures without any code; they are matched by their exact
 * text below.
 *
 * - `invalid-data`: a value the client sent that PostgreSQL cannot store or compare (data
 *   exceptions such as an invalid byte sequence, a bad text form, a value too long).
 * - `unavailable`: the database cannot be reached or is going away (connection exceptions,
 *   shutdown, start-up, too many connections).
 */
export type DbFailure = 'invalid-data' | 'unavailable';

/** Data exceptions (class 22) a client's value causes; others stay server errors. */
const CLIENT_DATA_SQLSTATES = new Set([
  '22021', // character_not_in_repertoire (invalid byte sequence for encoding)
  '22P05', // untranslatable_character (unsupported Unicode escape sequence)
  '22P02', // invalid_text_representation
  '22001', // string_data_right_truncation (value too long for type)
  '22025', // invalid_escape_sequence
]);

/** SQLSTATEs of a database that is out of reach or going away. */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown (terminating connection due to administrator command)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (the database system is starting up / shutting down)
  '53300', // too_many_connections
]);

/** Prisma's codes for the same: P1001 can't reach, P1002 timed out, P1008 socket timeout, P1017 closed, P2037 too many connections. */
const UNAVAILABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2037']);

const UNAVAILABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);

/** pg 8.x / pg-pool 3.x connection failures that carry no code (lib/client.js, pg-pool/index.js). */
const PG_CODELESS_UNAVAILABLE = new Set([
  'Connection terminated',
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
]);

interface Coded {
  name?: unknown;
  code?: unknown;
  severity?: unknown;
  message?: unknown;
  meta?: { driverAdapterError?: { cause?: { originalCode?: unknown; kind?: unknown } } };
  cause?: unknown;
}

export function classifyDbError(err: unknown): DbFailure | null {
  // The error and what it wraps (pg-pool's timeout wraps the socket error; drivers wrap theirs).
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; e = (e as Coded).cause, depth++) {
    const failure = classifyOne(e);
    if (failure) return failure;
  }
  return null;
}

function classifyOne(e: Coded): DbFailure | null {
  const sqlstate = sqlstateOf(e);
  if (sqlstate !== undefined) {
    if (CLIENT_DATA_SQLSTATES.has(sqlstate)) return 'invalid-data';
    if (sqlstate.startsWith('08') || UNAVAILABLE_SQLSTATES.has(sqlstate)) return 'unavailable';
  }
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code !== undefined && typeof e.name === 'string' && e.name.startsWith('PrismaClient') && UNAVAILABLE_PRISMA_CODES.has(code))
    return 'unavailable';
  if (code !== undefined && UNAVAILABLE_SOCKET_CODES.has(code)) return 'unavailable';
  if (code === undefined && typeof e.message === 'string' && PG_CODELESS_UNAVAILABLE.has(e.message)) return 'unavailable';
  return null;
}

/** PostgreSQL's SQLSTATE: pg's DatabaseError carries it as `code` (with a `severity`); Prisma keeps the driver's. */
function sqlstateOf(e: Coded): string | undefined {
  const fromPrisma = e.meta?.driverAdapterError?.cause?.originalCode;
  if (typeof fromPrisma === 'string') return fromPrisma;
  if (typeof e.code === 'string' && typeof e.severity === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  return undefined;
}
