import { useEffect, useEffectEvent, useState } from 'react';
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
const isText = (a: ArtifactRef) =>
  a.path !== PATCH_PATH && /^text\/|json|javascript|typescript|xml|yaml|x-/.test(a.contentType) && a.sizeBytes <= MAX_DIFF_BYTES;

type Diff = { path: string; before: string | null; after: string };

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
  // Downloaded once per set of files (their ids): a refetch of the job hands new arrays of the same files.
  const key = artifacts.map((a) => a.id).join(',') + '|' + (previous ?? []).map((a) => a.id).join(',');
  // What was loaded, for which set: a new set shows "Loading" (and no old error) until its own answer.
  const [loaded, setLoaded] = useState<{ key: string; diffs: Diff[] | null; error: string | null } | null>(null);
  const diffs = loaded?.key === key ? loaded.diffs : null;
  const error = loaded?.key === key ? loaded.error : null;

  // Reads the current props without making them a reason to download again (the key is).
  const download = useEffectEvent(() =>
    Promise.all(
      artifacts.filter(isText).map(async (a) => ({
        path: a.path,
        after: (await text(a)) ?? '',
        before: await text(previous?.find((p) => p.path === a.path)),
      })),
    ),
  );
  useEffect(() => {
    let cancelled = false;
    download().then(
      (d) => {
        if (!cancelled) setLoaded({ key, diffs: d, error: null });
      },
      (err: unknown) => {
        if (!cancelled) setLoaded({ key, diffs: null, error: err instanceof Error ? err.message : String(err) });
      },
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
      {diffs?.map((d) => (
        <DiffView key={d.path} {...d} />
      ))}
    </div>
  );
}
