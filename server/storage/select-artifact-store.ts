import path from 'node:path';
import type { Config } from '../config.ts';
import { createLocalArtifactStore, type ArtifactStore } from './artifact-store.ts';
import { createS3ArtifactStore } from './s3-artifact-store.ts';

/** The store AUTODEV_ARTIFACT_STORE names: files under the data directory (default) or S3. */
export function selectArtifactStore(config: Config): ArtifactStore {
  if (config.artifactStore === 'local') return createLocalArtifactStore(path.join(config.dataDir, 'artifacts'));
  return createS3ArtifactStore({ ...config.s3, bucket: config.s3.bucket! });
}
