import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { createTestDatabase } from '../test/database.ts';
import { freePort } from '../test/free-port.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { startS3rver } from '../test/s3rver-process.ts';
import { addScriptedTemplates, createScriptedJob, SCRIPTED_RUNNER_COMMAND, waitForJob } from '../test/scripted.ts';
import { createS3ArtifactStore } from './s3-artifact-store.ts';

const BUCKET = 'autodev-artifacts';
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
let s3: Awaited<ReturnType<typeof startS3rver>>;
let t: TestServer;

beforeAll(async () => {
  s3 = await startS3rver(BUCKET);
  t = await startTestServer({
    role: 'all',
    env: {
      AUTODEV_RUNNER_COMMAND: SCRIPTED_RUNNER_COMMAND,
      AUTODEV_ARTIFACT_STORE: 's3',
      AUTODEV_S3_BUCKET: BUCKET,
      AUTODEV_S3_ENDPOINT: s3.endpoint,
      AUTODEV_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    },
  });
  await addScriptedTemplates(t);
}, 60_000);

afterAll(async () => {
  await t?.close();
  await s3?.stop();
});

// A forced collection between samples, so that a sample counts live memory, not garbage not yet collected.
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const live = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** Peak growth of live memory (JS heap + buffers) over the baseline while `work` runs, sampled every 25 ms. */
async function peakLiveGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growthMiB: number }> {
  gc();
  const before = live();
  let peak = before;
  const sampler = setInterval(() => {
    gc();
    peak = Math.max(peak, live());
  }, 25);
  try {
    const result = await work();
    return { result, growthMiB: (peak - before) / 2 ** 20 };
  } finally {
    clearInterval(sampler);
  }
}

describe('the S3 artifact store (against s3rver)', () => {
  it('a crew artifact is uploaded to the bucket and downloaded through the presigned URL GraphQL returns', async () => {
    const job = await waitForJob(t, await createScriptedJob(t, 'ok'), ['SUCCEEDED', 'FAILED']);
    expect(job.state).toBe('SUCCEEDED');
    const [artifact] = job.attempts[0].artifacts;
    expect(artifact.path).toBe('notes/result.md');
    const url = new URL(artifact.downloadUrl);
    expect(url.origin).toBe(s3.endpoint);
    expect(url.pathname).toMatch(new RegExp(`^/${BUCKET}/artifacts/[0-9a-f-]+/${job.id}/1/[0-9a-f-]+$`));
    expect(url.searchParams.get('X-Amz-Expires')).toBe('3600');
    const res = await fetch(artifact.downloadUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="result.md"');
    expect(res.headers.get('content-type')).toBe('text/markdown');
    expect(await res.text()).toBe('# Result\n');
    // A SigV4 query-signed link for this object, for one hour. (s3rver does not check SigV4
    // signatures, so refusing a forged link is S3's part and is not verified here; see README.)
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^S3RVER\/\d{8}\/us-east-1\/s3\/aws4_request$/);
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
  });

  it('a 100 MB artifact streams up (multipart) and down with flat memory', async () => {
    const store = createS3ArtifactStore({
      bucket: BUCKET,
      prefix: 'artifacts/',
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: CREDENTIALS,
    });
    const MiB = 2 ** 20;
    const base = Buffer.alloc(MiB, 7);
    const sent = createHash('sha256');
    function* chunks() {
      for (let i = 0; i < 100; i++) {
        const chunk = Buffer.from(base);
        chunk.writeUInt32BE(i, 0);
        sent.update(chunk);
        yield chunk;
      }
    }
    const meta = { filename: 'big.bin', contentType: 'application/octet-stream' };
    const up = await peakLiveGrowth(() => store.put('big/100mb', Readable.from(chunks()), meta));
    const url = await store.presignedUrl!('big/100mb', meta, 600);
    const down = await peakLiveGrowth(async () => {
      const res = await fetch(url);
      const received = createHash('sha256');
      let bytes = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        received.update(chunk);
        bytes += chunk.length;
      }
      return { status: res.status, bytes, sha256: received.digest('hex') };
    });
    console.log(
      `100 MiB artifact: peak live memory +${up.growthMiB.toFixed(1)} MiB uploading, +${down.growthMiB.toFixed(1)} MiB downloading`,
    );
    expect(down.result).toEqual({ status: 200, bytes: 100 * MiB, sha256: sent.digest('hex') });
    // Buffering the file whole would cost ≥ 100 MiB; the store holds two 8 MiB parts at a time.
    expect(up.growthMiB).toBeLessThan(64);
    expect(down.growthMiB).toBeLessThan(64);
  }, 120_000);

  it('download links can name the address clients use when it differs from the one the server uses', async () => {
    const publicEndpoint = s3.endpoint.replace('127.0.0.1', 'localhost');
    const store = createS3ArtifactStore({
      bucket: BUCKET,
      prefix: 'artifacts/',
      region: 'us-east-1',
      endpoint: s3.endpoint,
      publicEndpoint,
      forcePathStyle: true,
      credentials: CREDENTIALS,
    });
    const meta = { filename: 'x.txt', contentType: 'text/plain' };
    await store.put('public/x', Buffer.from('hello'), meta);
    const url = new URL(await store.presignedUrl!('public/x', meta, 60));
    expect(url.origin).toBe(publicEndpoint);
    expect(url.pathname).toBe(`/${BUCKET}/artifacts/public/x`);
    expect(await (await store.get('public/x'))!.stream.toArray()).toEqual([Buffer.from('hello')]);
  });

  it('start-up stops with a sentence naming the bucket and the cause when the artifact store is unusable (missing bucket, refused keys, no endpoint)', async () => {
    const db = await createTestDatabase();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'autodev-s3-check-'));
    const start = (env: Record<string, string>) =>
      startApp(
        loadConfig({
          DATABASE_URL: db.url,
          PORT: '0',
          HOST: '127.0.0.1',
          AUTODEV_ROLE: 'api',
          AUTODEV_DATA_DIR: dataDir,
          AUTODEV_ARTIFACT_STORE: 's3',
          AUTODEV_S3_BUCKET: BUCKET,
          AUTODEV_S3_ENDPOINT: s3.endpoint,
          AUTODEV_S3_FORCE_PATH_STYLE: 'true',
          AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
          ...env,
        }),
        createLogger('silent'),
      );
    try {
      await expect(start({ AUTODEV_S3_BUCKET: 'no-such-bucket' })).rejects.toThrow(
        `the artifact store is unusable: S3 bucket "no-such-bucket" at ${s3.endpoint}: the bucket does not exist`,
      );
      await expect(start({ AWS_ACCESS_KEY_ID: 'AKIANOTAKEY', AWS_SECRET_ACCESS_KEY: 'not-the-secret' })).rejects.toThrow(
        `the artifact store is unusable: S3 bucket "${BUCKET}" at ${s3.endpoint}: access was refused to the keys in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`,
      );
      const closed = `http://127.0.0.1:${await freePort()}`;
      await expect(start({ AUTODEV_S3_ENDPOINT: closed })).rejects.toThrow(
        new RegExp(`^the artifact store is unusable: S3 bucket "${BUCKET}" at ${closed}: .*ECONNREFUSED`),
      );
      // The same settings with the right bucket and keys start.
      const app = await start({});
      await app.stop();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      await db.drop();
    }
  }, 60_000);
});
