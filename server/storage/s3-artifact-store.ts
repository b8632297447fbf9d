import { GetObjectCommand, HeadBucketCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Readable } from 'node:stream';
import type { ArtifactStore } from './artifact-store.ts';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket (lifecycle rules in k8s/s3-lifecycle.json match it). */
  prefix: string;
  region: string;
  /** An S3-compatible endpoint (MinIO, s3rver); unset → AWS. */
  endpoint?: string;
  /** The endpoint download links name, when clients reach the store under another address. */
  publicEndpoint?: string;
  forcePathStyle?: boolean;
  /** Credentials; unset → the AWS SDK's default chain (env, web identity, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** Multipart parts of 8 MiB, two in flight: a large artifact costs ~16 MiB of memory, whatever its size. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;

/** Artifacts in S3; clients download them through presigned GET URLs, not through the API. */
export function createS3ArtifactStore(opts: S3StoreOptions): ArtifactStore & { client: S3Client } {
  const clientFor = (endpoint?: string) =>
    new S3Client({ region: opts.region, endpoint, forcePathStyle: opts.forcePathStyle, credentials: opts.credentials });
  const client = clientFor(opts.endpoint);
  // A presigned URL signs its host, so links for another address are signed by a client for it.
  const presigner = opts.publicEndpoint ? clientFor(opts.publicEndpoint) : client;
  const Key = (key: string) => `${opts.prefix}${key}`;
  return {
    name: 's3',
    client,
    async put(key, body, meta) {
      const upload = new Upload({
        client,
        params: { Bucket: opts.bucket, Key: Key(key), Body: body, ContentType: meta.contentType },
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
        leavePartsOnError: false,
      });
      await upload.done();
    },
    async get(key) {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: opts.bucket, Key: Key(key) }));
        return { stream: res.Body as Readable, size: res.ContentLength ?? 0 };
      } catch (err) {
        if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return null;
        throw err;
      }
    },
    presignedUrl(key, meta, expiresInSeconds) {
      const command = new GetObjectCommand({
        Bucket: opts.bucket,
        Key: Key(key),
        ResponseContentType: meta.contentType,
        ResponseContentDisposition: `attachment; filename="${meta.filename}"`,
      });
      return getSignedUrl(presigner, command, { expiresIn: expiresInSeconds });
    },
    /**
     * HeadBucket with the credentials the process has: a missing bucket, refused or absent
     * credentials (no IRSA/Pod Identity, no keys) or an unreachable endpoint stop start-up, instead of
     * every upload failing later while the pod looks ready.
     */
    async check() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: opts.bucket }), { abortSignal: AbortSignal.timeout(10_000) });
      } catch (err) {
        const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
        const status = e.$metadata?.httpStatusCode;
        const where = `S3 bucket "${opts.bucket}"${opts.endpoint ? ` at ${opts.endpoint}` : ` in ${opts.region}`}`;
        const credentials = opts.credentials
          ? 'the keys in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY'
          : "the AWS SDK's default chain (IRSA/Pod Identity, instance role)";
        const reason =
          status === 404
            ? 'the bucket does not exist'
            : status === 403 || status === 401
              ? `access was refused to ${credentials}`
              : e.name === 'CredentialsProviderError'
                ? `no credentials were found (${credentials} gave none)`
                : `${e.name ?? 'error'}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(err)}`;
        throw new Error(`the artifact store is unusable: ${where}: ${reason}`, { cause: err });
      }
    },
  };
}
