import { GraphQLError, type GraphQLErrorOptions } from 'graphql';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { toGraphQLError } from './graphql-error.ts';

const UNAVAILABLE = /ECONNREFUSED|ECONNRESET|Connection terminated|terminating connection|timeout exceeded when trying to connect|the database system is (starting up|shutting down)|Can't reach database/i;

const TOO_COMPLEX = /limit of \d+ exceeded/i;
/** A driver error's SQLSTATE (pg puts it in `code`), or ''. */
function sqlStateOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}
/** PostgreSQL data exceptions a client's value causes (encoding, text form, length); others stay server errors. */
const CLIENT_DATA_SQLSTATES = new Set(['22021', '22P05', '22P02', '22001', '22025']);
const DATA_EXCEPTION = /invalid byte sequence for encoding|unsupported Unicode escape sequence|invalid input syntax for type|value too long for type/i;

/** Where a GraphQL error points (nodes, source, positions, path), for a replacement that keeps it. */
function placeOf(error: unknown): GraphQLErrorOptions {
  return error instanceof GraphQLError ? { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path } : {};
}

/**
 * What a client sees of an error: our AppErrors as they are; everything unexpected as a sentence
 * without internals, with a code, and logged in full on the server.
 */
export function maskError(log: Logger) {
  return (error: unknown, message: string): Error => {
    const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
    if (original instanceof AppError) return toGraphQLError(original, error instanceof GraphQLError ? error : undefined);
    if (error instanceof GraphQLError && !error.originalError && TOO_COMPLEX.test(error.message)) {
      // graphql-armor's limits (depth, aliases, tokens, cost, directives).
      return new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { ...placeOf(error), extensions: { ...error.extensions, code: 'QUERY_TOO_COMPLEX' } });
    }
    // Variable coercion fails before execution (no path); an output error during execution has a path
    // and is a server bug.
    if (error instanceof GraphQLError && (!error.originalError || (original instanceof GraphQLError && !error.path))) {
      // Parse/validation/variable-coercion errors from graphql-js: the client's mistake, already clear.
      return new GraphQLError(error.message, { ...placeOf(error), originalError: error.originalError, extensions: { code: error.extensions.code ?? 'BAD_USER_INPUT', ...error.extensions } });
    }
    const text = original instanceof Error ? original.message : String(original);
    if ((original as Error)?.name === 'PothosValidationError') {
      // e.g. a pagination cursor that is not one of ours.
      return new GraphQLError(`${text.slice(0, 120)}${text.length > 120 ? '…' : ''}`, {
        ...placeOf(error),
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    if (CLIENT_DATA_SQLSTATES.has(sqlStateOf(original)) || DATA_EXCEPTION.test(text)) {
      // PostgreSQL's "data exception" class: a value it cannot store or compare (a safety net
      // behind the validation in front of it).
      log.warn('request refused by the database as invalid data', { error: text.slice(0, 500) });
      return new GraphQLError('The request contains a value that cannot be stored or searched for (check for control characters and lengths).', {
        ...placeOf(error),
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    if (UNAVAILABLE.test(text)) {
      log.warn('request failed: database unavailable', { error: text });
      return new GraphQLError('The service cannot reach its database right now; try again shortly.', {
        ...placeOf(error),
        extensions: { code: 'SERVICE_UNAVAILABLE' },
      });
    }
    log.error('unexpected error', { error: text, stack: (original as Error)?.stack });
    return new GraphQLError(message, { ...placeOf(error), extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  };
}
