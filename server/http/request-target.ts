/**
 * The request target, parsed once for every handler. Nothing here throws: `new URL('//', base)` and
 * `decodeURIComponent('%')` do, and one such request used to take the whole process down.
 */
export interface RequestTarget {
  /** The path as sent (still percent-encoded), always starting with `/`. */
  path: string;
  /** The query string without `?` ('' when none). */
  search: string;
  /** Query parameters (malformed escapes are kept as they are, never an error). */
  query: URLSearchParams;
}

const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;

/** Origin-form (`/a?b`) and absolute-form (`http://host/a?b`, which proxies send); anything else (`*`, `x`) is null. */
export function parseRequestTarget(url: string | undefined): RequestTarget | null {
  if (!url) return null;
  let rest = url;
  const absolute = ABSOLUTE_FORM.exec(rest);
  if (absolute) {
    rest = rest.slice(absolute[0].length);
    if (!rest.startsWith('/')) rest = '/' + rest;
  }
  if (!rest.startsWith('/')) return null;
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  const path = q >= 0 ? rest.slice(0, q) : rest;
  const search = q >= 0 ? rest.slice(q + 1) : '';
  return { path, search, query: new URLSearchParams(search) };
}

/** The path with its escapes decoded, or null when an escape is malformed or decodes to NUL. */
export function decodePath(path: string): string | null {
  try {
    const decoded = decodeURIComponent(path);
    return decoded.includes('\0') ? null : decoded;
  } catch {
    return null;
  }
}

const HOST = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;

/**
 * A `Host` header that a URL can be built from (Yoga builds the request's URL from it), or none at
 * all (HTTP/1.0). Node itself refuses an HTTP/1.1 request without one.
 */
export function isUsableHost(host: string | undefined): boolean {
  if (host === undefined) return true;
  const match = HOST.exec(host);
  if (!match || (match[1] !== undefined && Number(match[1]) > 65535)) return false;
  return URL.canParse(`http://${host}/`);
}
