import { GraphQLError, type GraphQLErrorOptions } from 'graphql';
import { classifyDbError } from '../db/db-error.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { toGraphQLError } from './graphql-error.ts';
import { isQueryLimitRejection } from './hardening.ts';

/** graphql-armor words its refusals as syntax errors; the client reads the limit without that prefix. */
const ARMOR_PREFIX = 'Syntax Error: ';

/** Where a GraphQL error points (nodes, source, positions, path), for a replacement that keeps it. */
function placeOf(error: unknown): GraphQLErrorOptions {
  return error instanceof GraphQLError ? { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path } : {};
}

/**
 * What a client sees of an error: our AppErrors as they are; everything unexpected as a sentence
 * without internals, with a code, and logged in full on the server. Errors are told apart by their
 * class, identity and codes (SQLSTATE, err.code: db/db-error.ts), not by their wording.
 */
export function maskError(log: Logger) {
  return (error: unknown, message: string): Error => {
    const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
    if (original instanceof AppError) return toGraphQLError(original, error instanceof GraphQLError ? error : undefined);
    if (error instanceof GraphQLError && isQueryLimitRejection(error)) {
      // graphql-armor's limits (depth, aliases, tokens, directives).
      const text = error.message.startsWith(ARMOR_PREFIX) ? error.message.slice(ARMOR_PREFIX.length) : error.message;
      return new GraphQLError(text, { ...placeOf(error), extensions: { ...error.extensions, code: 'QUERY_TOO_COMPLEX' } });
    }
    // Variable coercion fails before execution (no path); an output error during execution has a path
    // and is a server bug.
    if (error instanceof GraphQLError && (!error.originalError || (original instanceof GraphQLError && !error.path))) {
      // Parse/validation/variable-coercion errors from graphql-js: the client's mistake, already clear.
      return new GraphQLError(error.message, {
        ...placeOf(error),
        originalError: error.originalError,
        extensions: { code: error.extensions.code ?? 'BAD_USER_INPUT', ...error.extensions },
      });
    }
    const text = original instanceof Error ? original.message : String(original);
    if (original instanceof Error && original.name === 'PothosValidationError') {
      // e.g. a pagination cursor that is not one of ours.
      return new GraphQLError(`${text.slice(0, 120)}${text.length > 120 ? '…' : ''}`, {
        ...placeOf(error),
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    switch (classifyDbError(original)) {
      case 'invalid-data':
        // PostgreSQL's "data exception" class: a value it cannot store or compare (a safety net
        // behind the validation in front of it).
        log.warn('request refused by the database as invalid data', { error: text.slice(0, 500) });
        return new GraphQLError(
          'The request contains a value that cannot be stored or searched for (check for control characters and lengths).',
          {
            ...placeOf(error),
            extensions: { code: 'BAD_USER_INPUT' },
          },
        );
      case 'unavailable':
        log.warn('request failed: database unavailable', { error: text });
        return new GraphQLError('The service cannot reach its database right now; try again shortly.', {
          ...placeOf(error),
          extensions: { code: 'SERVICE_UNAVAILABLE' },
        });
      case null:
        log.error('unexpected error', { error: text, stack: original instanceof Error ? original.stack : undefined });
        return new GraphQLError(message, { ...placeOf(error), extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    }
  };
}
