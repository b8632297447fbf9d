/**
 * CORS for the API: an explicit allow-list (AUTODEV_CORS_ORIGINS). With none, no CORS headers at
 * all, so only pages of the API's own origin (the bundled web app) can read its answers in a
 * browser. Tokens travel in the Authorization header, never in cookies: credentials are never allowed.
 */
export function corsPolicy(allowed: readonly string[]) {
  const anyOrigin = allowed.includes('*');
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (!origin || !(anyOrigin || allowed.includes(origin))) return false as const;
    return {
      origin: ['*'], // Yoga then echoes the request's (allowed) origin, with Vary: Origin
      credentials: false,
      methods: ['GET', 'POST', 'OPTIONS'],
      allowedHeaders: ['authorization', 'content-type', 'accept', 'x-request-id'],
      maxAge: 600,
    };
  };
}
