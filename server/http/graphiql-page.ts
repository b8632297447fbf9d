import type http from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { RequestTarget } from './request-target.ts';

const OPTIONS = { title: 'AutoDev GraphQL', subscriptionsProtocol: 'WS' as const };
/** Everything the page needs is inline or from this server; the browser enforces that nothing else loads. */
const CSP =
  "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' ws: wss:";

/**
 * GraphiQL with its scripts, styles and editor workers inlined (about 9 MB, 2 MB gzipped), so that
 * it works without internet access; Yoga's own page loads them from a CDN. Rendered and compressed
 * once: every answer sends the same buffers, so clients that stop reading cannot make the server
 * hold a copy each.
 */
let page: Promise<{ plain: Buffer; gzipped: Buffer }> | undefined;
function graphiqlPage() {
  page ??= (async () => {
    // Loaded at the first page view, not at start-up (importing its 9 MB cost every server ~100 ms).
    const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
    const plain = Buffer.from(renderGraphiQL(OPTIONS));
    return { plain, gzipped: await promisify(gzip)(plain) };
  })();
  return page;
}

/** A browser's GET of the GraphQL endpoint (what Yoga would answer with GraphiQL). */
export function handleGraphiql(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: RequestTarget,
  graphqlPath: string,
): boolean | Promise<void> {
  if (target.path !== graphqlPath || (req.method !== 'GET' && req.method !== 'HEAD') || !(req.headers.accept ?? '').includes('text/html'))
    return false;
  return graphiqlPage().then(({ plain, gzipped }) => {
    const useGzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
    const body = useGzip ? gzipped : plain;
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': body.length,
      'cache-control': 'no-cache',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      vary: 'Accept, Accept-Encoding',
      ...(useGzip ? { 'content-encoding': 'gzip' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
}
