export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'INVALID_TRANSITION'
  | 'CONFLICT'
  | 'BUDGET_EXCEEDED'
  | 'SERVICE_UNAVAILABLE'
  | 'RATE_LIMITED'
  | 'QUERY_TOO_COMPLEX'
  | 'PAYLOAD_TOO_LARGE'
  | 'SUBSCRIBER_TOO_SLOW'
  | 'INTERNAL_SERVER_ERROR';

/**
 * An error meant for the API's user: a code clients can branch on and a sentence a person
 * understands. A plain error of the domain: the GraphQL layer turns it into a GraphQL error
 * (`server/http/graphql-error.ts`), with the code and the details in `extensions`.
 */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly code: ErrorCode;
  /** Further facts a client may read next to the code (e.g. `reason`, `retryAfterSeconds`). */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

export const badInput = (message: string, details?: Record<string, unknown>) => new AppError('BAD_USER_INPUT', message, details);
export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} was not found.`);
export const forbidden = (message: string) => new AppError('FORBIDDEN', message);
