import { createReadStream, statSync } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { decodePath, type RequestTarget } from './request-target.ts';

export const WEB_APP_DIR = fileURLToPath(new URL('../../client/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>AutoDev</title>
<p>The web app is not built. Run <code>npm run build:client</code> (<code>npm start</code> does it), or use GraphiQL at <a href="/graphql">/graphql</a>.</p>`;

/**
 * The web app (client/dist): files by path; `/` for any client (so `curl localhost:4000/` gets
 * the app, not a 404); index.html for every other page a browser asks for (the app routes by path).
 * Hashed assets are cached for a year; index.html never is.
 */
export function handleWebApp(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget, dir = WEB_APP_DIR): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (target.path.startsWith('/graphql')) return false;
  const pathname = decodePath(target.path);
  if (pathname === null) return false;
  const file = path.resolve(dir, '.' + path.posix.normalize(pathname));
  const found = file.startsWith(dir) ? fileSize(file) : null;
  if (found !== null) {
    send(req, res, file, found, pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    return true;
  }
  const isPage = pathname === '/' || ((req.headers.accept ?? '').includes('text/html') && !path.extname(pathname));
  if (!isPage) return false;
  const index = path.join(dir, 'index.html');
  const indexSize = fileSize(index);
  if (indexSize === null) {
    res.writeHead(503, { 'content-type': 'text/html; charset=utf-8' }).end(NOT_BUILT);
    return true;
  }
  send(req, res, index, indexSize, 'no-cache');
  return true;
}

/** The size of a regular file, or null when there is none (one stat call). */
function fileSize(file: string): number | null {
  try {
    const s = statSync(file, { throwIfNoEntry: false });
    return s?.isFile() ? s.size : null;
  } catch {
    return null; // a name too long for the filesystem, a component that is a file (ENOTDIR), …
  }
}

function send(req: http.IncomingMessage, res: http.ServerResponse, file: string, size: number, cacheControl: string) {
  res.writeHead(200, {
    'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'content-length': size,
    'cache-control': cacheControl,
    'x-content-type-options': 'nosniff',
    ...(file.endsWith('.html')
      ? {
          'content-security-policy':
            "default-src 'self'; script-src 'self' 'unsafe-eval'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
        }
      : {}),
  });
  if (req.method === 'HEAD') res.end();
  // A file that vanishes or cannot be read after the stat ends this response, not the process.
  else pipeline(createReadStream(file), res, () => {});
}
