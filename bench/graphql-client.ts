import http from 'node:http';
import type { TestServer } from '../server/test/harness.ts';

/**
 * The benchmarks' GraphQL client: POSTs over keep-alive `node:http` sockets, one `JSON.parse` per
 * response. It runs in the server's process, so its CPU counts against AutoDev while the
 * baselines' clients (graphile-worker's `addJob`, bare `ws`) cost next to nothing: Node's `fetch`
 * (undici) cost ~1.3 ms of CPU per `createJob` more than this client, measured in alternating
 * runs of 300 requests at concurrency 8 (fetch 5.37 / 4.45 / 4.01 ms, this 3.80 / 3.22 / 2.75 ms
 * per request, client and server together).
 */
/** A GraphQL response as the server sends it; `data` is checked by the caller. */
export interface GraphqlReply {
  data?: unknown;
  errors?: unknown[];
}

export function benchGraphqlClient(t: TestServer, sockets: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const target = new URL(`${t.url}/graphql`);
  const post = (query: string, variables: Record<string, unknown>): Promise<GraphqlReply> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ query, variables });
      const req = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/graphql-response+json',
            authorization: `Bearer ${t.adminToken}`,
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as GraphqlReply);
            } catch (err) {
              reject(new Error(`HTTP ${res.statusCode}: not JSON`, { cause: err }));
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { post, close: () => agent.destroy() };
}
