import { GraphQLError } from 'graphql';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { toGraphQLError } from './graphql-error.ts';

const UNAVAILABLE = /ECONNREFUSED|ECONNRESET|Connection terminated|terminating connection|timeout exceeded when trying to connect|the database system is (starting up|shutting down)|Can't reach database/i;

const TOO_COMPLEX = /limit of \d+ exceeded/i;
/** PostgreSQL data exceptions a client's value causes (encoding, text form, length); others stay server errors. */
const CLIENT_DATA_SQLSTATES = new Set(['22021', '22P05', '22P02', '22001', '22025']);
const DATA_EXCEPTION = /invalid byte sequence for encoding|unsupported Unicode escape sequence|invalid input syntax for type|value too long for type/i;

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
      return new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { ...error, extensions: { ...error.extensions, code: 'QUERY_TOO_COMPLEX' } });
    }
    // Variable coercion fails before execution (no path); an output error during execution has a path
    // and is a server bug.
    if (error instanceof GraphQLError && (!error.originalError || (original instanceof GraphQLError && !error.path))) {
      // Parse/validation/variable-coercion errors from graphql-js: the client's mistake, already clear.
      return new GraphQLError(error.message, { ...error, extensions: { code: error.extensions.code ?? 'BAD_USER_INPUT', ...error.extensions } });
    }
    const text = String((original as Error)?.message ?? original);
    if ((original as Error)?.name === 'PothosValidationError') {
      // e.g. a pagination cursor that is not one of ours.
      return new GraphQLError(`${text.slice(0, 120)}${text.length > 120 ? '…' : ''}`, {
        ...(error instanceof GraphQLError ? error : {}),
        extensions: { code: 'BAD_USER_INPUT' },
        originalError: undefined,
      });
    }
    if (CLIENT_DATA_SQLSTATES.has(String((original as { code?: unknown })?.code ?? '')) || DATA_EXCEPTION.test(text)) {
      // PostgreSQL's "data exception" class: a value it cannot store or compare (a safety net
      // behind the validation in front of it).
      log.warn('request refused by the database as invalid data', { error: text.slice(0, 500) });
      return new GraphQLError('The request contains a value that cannot be stored or searched for (check for control characters and lengths).', {
        ...(error instanceof GraphQLError ? error : {}),
        extensions: { code: 'BAD_USER_INPUT' },
        originalError: undefined,
      });
    }
    if (UNAVAILABLE.test(text)) {
      log.warn('request failed: database unavailable', { error: text });
      return new GraphQLError('The service cannot reach its database right now; try again shortly.', {
        ...(error instanceof GraphQLError ? error : {}),
        extensions: { code: 'SERVICE_UNAVAILABLE' },
        originalError: undefined,
      });
    }
    log.error('unexpected error', { error: text, stack: (original as Error)?.stack });
    return new GraphQLError(message, { ...(error instanceof GraphQLError ? error : {}), extensions: { code: 'INTERNAL_SERVER_ERROR' }, originalError: undefined });
  };
}
