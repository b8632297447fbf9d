import type http from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { RequestTarget } from './request-target.ts';

const OPTIONS = { title: 'AutoDev GraphQL', subscriptionsProtocol: 'WS' as const };

/**
 * GraphiQL with its scripts, styles and editor workers inlined (about 9 MB, 2 MB gzipped), so that
 * it works without internet access; Yoga's own page loads them from a CDN. Rendered and compressed
 * once: every answer sends the same buffers, so clients that stop reading cannot make the server
 * hold a copy each.
 */
let page: Promise<{ plain: Buffer; gzipped: Buffer }> | undefined;
function graphiqlPage() {
  page ??= (async () => {
    const plain = Buffer.from(renderGraphiQL(OPTIONS));
    return { plain, gzipped: await promisify(gzip)(plain) };
  })();
  return page;
}

/** A browser's GET of the GraphQL endpoint (what Yoga would answer with GraphiQL). */
export function handleGraphiql(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget, graphqlPath: string): boolean | Promise<void> {
  if (target.path !== graphqlPath || (req.method !== 'GET' && req.method !== 'HEAD') || !(req.headers.accept ?? '').includes('text/html')) return false;
  return graphiqlPage().then(({ plain, gzipped }) => {
    const useGzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = useGzip ? gzipped : plain;
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': body.length,
      'cache-control': 'no-cache',
      vary: 'Accept, Accept-Encoding',
      ...(useGzip ? { 'content-encoding': 'gzip' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
}
