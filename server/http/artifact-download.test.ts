// Downloads of stored artifacts through their signed links. The content type is the runner's word
// (any string of up to 200 characters in the runner protocol): one that is not a valid header value
// made Node's writeHead throw, and the download answered 500 every time it was asked for.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { addScriptedTemplates, createScriptedJob, SCRIPTED_RUNNER_COMMAND, waitForJob } from '../test/scripted.ts';

let t: TestServer;
let artifactId: string;
let downloadUrl: string;
beforeAll(async () => {
  t = await startTestServer({ role: 'all', env: { AUTODEV_RUNNER_COMMAND: SCRIPTED_RUNNER_COMMAND } });
  await addScriptedTemplates(t);
  const job = await waitForJob(t, await createScriptedJob(t, 'ok'), ['SUCCEEDED']);
  downloadUrl = job.attempts[0].artifacts[0].downloadUrl;
  artifactId = new URL(downloadUrl).pathname.split('/').pop()!;
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const setContentType = (type: string) =>
  t.app.services.pool.query(`UPDATE "Artifact" SET "contentType" = $1 WHERE id = $2`, [type, artifactId]);

describe('artifact downloads', () => {
  it('send the stored content type when it is a media type', async () => {
    await setContentType('text/markdown; charset=utf-8');
    const res = await fetch(downloadUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(await res.text()).toBe('# Result\n');
  });

  it('send application/octet-stream, never a 500 or an injected header, for any content type a runner could store', async () => {
    const odd = [
      'text/plain\r\nSet-Cookie: a=1',
      'text/plain\nx',
      'téxt/plain',
      'text/plain; name="☃"',
      '\u2028',
      ' ',
      'x',
      '/',
      'text/',
      'a b/c',
      '"text/plain"',
      'text/plain\t; a=b\u007f',
    ];
    const seen: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constantFrom(...odd),
          fc.string({ minLength: 1, maxLength: 200, unit: 'binary' }).filter((s) => !s.includes('\u0000')) /* PostgreSQL stores no NUL */,
        ),
        async (type) => {
          await setContentType(type);
          const res = await fetch(downloadUrl);
          seen[res.status] = (seen[res.status] ?? 0) + 1;
          expect(res.status, JSON.stringify(type)).toBe(200);
          expect(res.headers.get('set-cookie')).toBeNull();
          const sent = res.headers.get('content-type')!;
          expect(sent === type || sent === 'application/octet-stream', `${JSON.stringify(type)} sent as ${JSON.stringify(sent)}`).toBe(
            true,
          );
          expect(await res.text()).toBe('# Result\n');
        },
      ),
      { numRuns: 150, seed: 1127 },
    );
    console.log(`artifact content types: 150 downloads, statuses ${JSON.stringify(seen)}`);
  }, 60_000);
});
