import type http from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Services } from '../services.ts';
import { verifyArtifactSignature } from '../storage/signed-url.ts';
import { downloadFilename } from '../storage/artifact-store.ts';
import type { RequestTarget } from './request-target.ts';

const ARTIFACT_PATH = /^\/artifacts\/([0-9a-f-]{36})$/i;
/** `type/subtype` and optional `; parameters` in printable ASCII (RFC 9110 tokens), no surrounding space. */
const MEDIA_TYPE = /^[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+(?:[ \t]*;[\x20-\x7e\t]*[\x21-\x7e])?$/;

/**
 * The content type a runner stored (any text up to 200 characters: the runner protocol does not
 * check it) when it is a media type; otherwise application/octet-stream. A value with a line break
 * or a character outside Latin-1 made writeHead throw, so that download answered 500 every time.
 */
export function downloadContentType(stored: string): string {
  return MEDIA_TYPE.test(stored) ? stored : 'application/octet-stream';
}

/** `GET /artifacts/<id>?expires=…&sig=…`: the signed link GraphQL hands out after its project check. */
export function handleArtifactDownload(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: RequestTarget,
  services: Services,
): boolean | Promise<void> {
  const match = ARTIFACT_PATH.exec(target.path);
  if (!match || req.method !== 'GET') return false;
  const id = match[1];
  if (!verifyArtifactSignature(services.signingKey, id, target.query.get('expires'), target.query.get('sig'))) {
    res
      .writeHead(403, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: 'The download link is invalid or has expired.' }));
    return true;
  }
  return (async () => {
    const artifact = await services.db.artifact.findUnique({ where: { id } });
    const stored = artifact ? await services.artifacts.get(artifact.storageKey) : null;
    if (!artifact || !stored) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'The artifact was not found.' }));
      return;
    }
    res.writeHead(200, {
      'content-type': downloadContentType(artifact.contentType),
      'content-length': String(stored.size),
      'content-disposition': `attachment; filename="${downloadFilename(artifact.path)}"`,
      'x-content-type-options': 'nosniff',
    });
    // A store that fails mid-stream (or a client that goes away) ends this response, not the process.
    await pipeline(stored.stream, res).catch((err: unknown) => {
      if (!res.writableFinished) services.log.warn('artifact download cut off', { id, error: String(err) });
    });
  })();
}
