import type { Principal } from '../auth/tokens.ts';
import { AppError } from '../errors.ts';
import type { Services } from '../services.ts';

/** Authenticates if a credential was sent; the resolver's auth scope decides whether one was needed. */
export async function principalFrom(
  services: Services,
  authorization: string | null | undefined,
): Promise<{ principal: Principal | null; authError: AppError | null }> {
  if (!authorization) {
    return { principal: null, authError: new AppError('UNAUTHENTICATED', 'Send an API token as `Authorization: Bearer <token>`.') };
  }
  try {
    return { principal: await services.principals.authenticate(authorization), authError: null };
  } catch (err) {
    if (err instanceof AppError) return { principal: null, authError: err };
    throw err;
  }
}
