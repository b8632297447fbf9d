import type http from 'node:http';
import type { Services } from '../services.ts';
import { verifyArtifactSignature } from '../storage/signed-url.ts';
import { downloadFilename } from '../storage/artifact-store.ts';

/** `GET /artifacts/<id>?expires=…&sig=…`: the signed link GraphQL hands out after its project check. */
export function handleArtifactDownload(req: http.IncomingMessage, res: http.ServerResponse, services: Services): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const match = /^\/artifacts\/([0-9a-f-]{36})$/i.exec(url.pathname);
  if (!match || req.method !== 'GET') return false;
  void (async () => {
    const id = match[1];
    if (!verifyArtifactSignature(services.signingKey, id, url.searchParams.get('expires'), url.searchParams.get('sig'))) {
      res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'The download link is invalid or has expired.' }));
      return;
    }
    const artifact = await services.db.artifact.findUnique({ where: { id } });
    const stored = artifact ? await services.artifacts.get(artifact.storageKey) : null;
    if (!artifact || !stored) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'The artifact was not found.' }));
      return;
    }
    res.writeHead(200, {
      'content-type': artifact.contentType,
      'content-length': String(stored.size),
      'content-disposition': `attachment; filename="${downloadFilename(artifact.path)}"`,
      'x-content-type-options': 'nosniff',
    });
    stored.stream.pipe(res);
  })().catch((err) => {
    services.log.error('artifact download failed', { error: String(err) });
    if (!res.headersSent) res.writeHead(500).end();
    else res.destroy();
  });
  return true;
}
