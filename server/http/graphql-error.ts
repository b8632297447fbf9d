import { GraphQLError } from 'graphql';
import { AppError } from '../errors.ts';

/**
 * A domain error as the API answers it: its sentence, `extensions.code` and its details. `at` is
 * the error graphql-js located it with (a resolver's), whose path is kept. The one place a domain
 * error becomes a GraphQL error; `maskError` and the plugins that answer themselves use it.
 */
export function toGraphQLError(err: AppError, at?: GraphQLError): GraphQLError {
  return new GraphQLError(err.message, { path: at?.path, extensions: { code: err.code, ...err.details } });
}

/** The code an error of a result will answer with (before masking): its own, or that of the domain error it wraps. */
export function answerCode(error: { extensions?: Record<string, unknown>; originalError?: unknown }): string {
  if (error.originalError instanceof AppError) return error.originalError.code;
  const code = error.extensions?.code;
  return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
}
