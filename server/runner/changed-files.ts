// The files the crew changed, as artifacts beside changes.patch (`files/<path>`), so a reviewer can
// download a file whole. Bounded: only regular files still present (a deleted file is in the patch),
// each at most MAX_CHANGED_FILE_BYTES, at most `room` files; what is left out is listed, with why.
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunnerEvent } from '../runner-protocol/parse-runner-output.ts';

export const MAX_CHANGED_FILE_BYTES = 256 * 1024;
/** At most this many files per attempt, whatever room the job has left. */
export const MAX_CHANGED_FILES = 50;
export const CHANGED_FILES_PREFIX = 'files/';

type ArtifactEvent = Extract<RunnerEvent, { type: 'artifact' }>;

export async function changedFileArtifacts(
  dir: string,
  files: readonly { path: string }[],
  room: number,
): Promise<{ artifacts: ArtifactEvent[]; skipped: { path: string; why: string }[] }> {
  const artifacts: ArtifactEvent[] = [];
  const skipped: { path: string; why: string }[] = [];
  const limit = Math.max(0, Math.min(room, MAX_CHANGED_FILES));
  for (const f of files) {
    const stat = await lstat(path.join(dir, f.path)).catch(() => null);
    if (!stat) continue; // deleted: the patch says so
    if (!stat.isFile()) skipped.push({ path: f.path, why: 'not a regular file' });
    else if (stat.size > MAX_CHANGED_FILE_BYTES) skipped.push({ path: f.path, why: `${stat.size} bytes, over ${MAX_CHANGED_FILE_BYTES}` });
    else if (f.path.length > 1000) skipped.push({ path: f.path.slice(0, 200), why: 'path too long' });
    else if (artifacts.length >= limit) skipped.push({ path: f.path, why: `over the ${limit} files this attempt may store` });
    else {
      const bytes = await readFile(path.join(dir, f.path));
      const utf8 = bytes.toString('utf8');
      const text = Buffer.from(utf8, 'utf8').equals(bytes);
      artifacts.push({
        v: 1,
        type: 'artifact',
        path: `${CHANGED_FILES_PREFIX}${f.path}`,
        contentType: text ? 'text/plain; charset=utf-8' : 'application/octet-stream',
        encoding: text ? 'utf8' : 'base64',
        content: text ? utf8 : bytes.toString('base64'),
      });
    }
  }
  return { artifacts, skipped };
}
