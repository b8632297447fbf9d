import { useEffect, useState } from 'react';
import { DiffView } from './diff-view';
import { ErrorBox } from './status';

export interface ArtifactRef {
  id: string;
  path: string;
  contentType: string;
  sizeBytes: number;
  downloadUrl: string;
}

const MAX_DIFF_BYTES = 256 * 1024;
/** changes.patch is itself a diff, rendered from the API's parsed form (attempt-changes.tsx), not diffed again here. */
export const PATCH_PATH = 'changes.patch';
const isText = (a: ArtifactRef) => a.path !== PATCH_PATH && /^text\/|json|javascript|typescript|xml|yaml|x-/.test(a.contentType) && a.sizeBytes <= MAX_DIFF_BYTES;

async function text(a: ArtifactRef | undefined): Promise<string | null> {
  if (!a) return null;
  const res = await fetch(a.downloadUrl);
  if (!res.ok) throw new Error(`${a.path}: the download failed (${res.status})`);
  return res.text();
}

/**
 * The files an attempt produced, as a diff against the same paths in the previous attempt (a new
 * file against nothing), with download links.
 */
export function ArtifactsView({ artifacts, previous }: { artifacts: ArtifactRef[]; previous?: ArtifactRef[] }) {
  const [diffs, setDiffs] = useState<{ path: string; before: string | null; after: string }[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const key = artifacts.map((a) => a.id).join(',') + '|' + (previous ?? []).map((a) => a.id).join(',');

  useEffect(() => {
    let cancelled = false;
    setDiffs(null);
    Promise.all(
      artifacts.filter(isText).map(async (a) => ({
        path: a.path,
        after: (await text(a)) ?? '',
        before: await text(previous?.find((p) => p.path === a.path)),
      })),
    ).then(
      (d) => !cancelled && setDiffs(d),
      (err) => !cancelled && setError(String(err.message ?? err)),
    );
    return () => {
      cancelled = true;
    };
  }, [key]);

  if (artifacts.length === 0) return <p className="muted">This attempt produced no files.</p>;
  return (
    <div className="artifacts">
      <ul className="artifact-list">
        {artifacts.map((a) => (
          <li key={a.id}>
            <a href={a.downloadUrl} download>
              {a.path}
            </a>{' '}
            <span className="muted">
              {a.contentType}, {a.sizeBytes.toLocaleString()} bytes
            </span>
          </li>
        ))}
      </ul>
      <ErrorBox message={error} />
      {!diffs && !error && <p className="muted">Loading the changes…</p>}
      {diffs?.map((d) => <DiffView key={d.path} {...d} />)}
    </div>
  );
}
