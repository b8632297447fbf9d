import path from 'node:path';
import type { Config } from '../config.ts';
import { createLocalArtifactStore, type ArtifactStore } from './artifact-store.ts';

/** The store AUTODEV_ARTIFACT_STORE names: files under the data directory (default) or S3 (its SDK loaded only then). */
export async function selectArtifactStore(config: Config): Promise<ArtifactStore> {
  if (config.artifactStore === 'local') return createLocalArtifactStore(path.join(config.dataDir, 'artifacts'));
  const { createS3ArtifactStore } = await import('./s3-artifact-store.ts');
  return createS3ArtifactStore({ ...config.s3, bucket: config.s3.bucket! });
}
