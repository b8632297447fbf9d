import { locatedError, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { AppError, notFound } from '../errors.ts';
import { answerCode, toGraphQLError } from './graphql-error.ts';

describe('domain errors at the GraphQL edge', () => {
  it('a domain error is a plain error with a code, and answers with its sentence, code and details', () => {
    const err = new AppError('RATE_LIMITED', 'Too many mutations with this token.', { retryAfterSeconds: 3 });
    expect(err).toBeInstanceOf(Error);
    expect(Object.keys(err)).not.toContain('extensions');
    expect(toGraphQLError(err).toJSON()).toEqual({
      message: 'Too many mutations with this token.',
      extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 3 },
    });
  });

  it('keeps the path of the resolver that threw it, and its code counts before masking (metrics, logs)', () => {
    const node = parse('{ job(id: "x") { id } }').definitions[0];
    const located = locatedError(notFound('Job x'), [node], ['job']);
    expect(answerCode(located)).toBe('NOT_FOUND');
    expect(toGraphQLError(notFound('Job x'), located).toJSON()).toEqual({
      message: 'Job x was not found.',
      path: ['job'],
      extensions: { code: 'NOT_FOUND' },
    });
    expect(answerCode(locatedError(new Error('boom'), [node], ['job']))).toBe('INTERNAL_SERVER_ERROR');
  });
});
