import { GraphQLError } from 'graphql';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';

const UNAVAILABLE = /ECONNREFUSED|ECONNRESET|Connection terminated|terminating connection|timeout exceeded when trying to connect|the database system is (starting up|shutting down)|Can't reach database/i;

/**
 * What a client sees of an error: our AppErrors as they are; everything unexpected as a sentence
 * without internals, with a code, and logged in full on the server.
 */
export function maskError(log: Logger) {
  return (error: unknown, message: string): Error => {
    const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
    if (original instanceof AppError) {
      return error instanceof GraphQLError && error.originalError ? new GraphQLError(original.message, { ...error, extensions: original.extensions, originalError: undefined }) : original;
    }
    if (error instanceof GraphQLError && !error.originalError) {
      // Parse/validation/variable errors from graphql-js: the client's mistake, already clear.
      return new GraphQLError(error.message, { ...error, extensions: { code: error.extensions.code ?? 'BAD_USER_INPUT', ...error.extensions } });
    }
    const text = String((original as Error)?.message ?? original);
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
