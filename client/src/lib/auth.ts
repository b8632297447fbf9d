// The API token the app signs in with: kept in local storage. A link may carry it once in its
// fragment (`/#token=…`, never sent to the server); it is moved to storage and removed from the URL.
const KEY = 'autodev.token';

export function takeTokenFromUrl(): void {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match) return;
  saveToken(decodeURIComponent(match[1]));
  history.replaceState(null, '', window.location.pathname + window.location.search);
}

export const loadToken = (): string | null => localStorage.getItem(KEY);
export const saveToken = (token: string): void => localStorage.setItem(KEY, token.trim());
export const clearToken = (): void => localStorage.removeItem(KEY);

/**
 * Why a subscription failed because of its token (revoked, expired, unknown), or null. graphql-ws
 * reports it as the operation's UNAUTHENTICATED error or, for the socket, a close with 4401.
 */
export function tokenFailure(err: unknown): string | null {
  if (Array.isArray(err)) {
    const e = (err as ({ message?: unknown; extensions?: { code?: unknown } } | null)[]).find(
      (x) => x?.extensions?.code === 'UNAUTHENTICATED',
    );
    return e ? String(e.message) : null;
  }
  const close = err as { code?: unknown; reason?: unknown } | null;
  if (close && close.code === 4401)
    return typeof close.reason === 'string' && close.reason ? close.reason : 'Your token is no longer valid.';
  return null;
}
