import type { AttemptDiffFieldsFragment } from '../gql/graphql';

type Diff = AttemptDiffFieldsFragment;
type File = Diff['files'][number];
type Hunk = File['hunks'][number];

const STATUS: Record<string, string> = { ADDED: 'new file', DELETED: 'deleted', MODIFIED: '' };

/** A diff as git shows it: the files with their +/- counts, then each file's hunks with line numbers. */
export function PatchView({ diff, label }: { diff: Diff; label: string }) {
  if (diff.unavailableReason)
    return (
      <p className="muted" data-testid="diff-unavailable">
        {diff.unavailableReason}
      </p>
    );
  if (!diff.files.length)
    return (
      <p className="muted" data-testid="diff-empty">
        No differences.
      </p>
    );
  return (
    <div className="patch" aria-label={label}>
      <p className="patch-summary" data-testid="diff-summary">
        {diff.files.length} file{diff.files.length === 1 ? '' : 's'} changed, <span className="diff-added">+{diff.additions}</span>{' '}
        <span className="diff-removed">−{diff.deletions}</span>
        {diff.linesCut > 0 && (
          <span className="muted"> · {diff.linesCut.toLocaleString()} lines not shown (the diff is cut to stay small)</span>
        )}
      </p>
      <ul className="patch-files">
        {diff.files.map((f) => (
          <li key={f.path}>
            <code>{f.path}</code> {STATUS[f.status] && <span className="badge">{STATUS[f.status]}</span>} <FileCounts file={f} />
          </li>
        ))}
      </ul>
      {diff.files.map((f) => (
        <FileDiff key={f.path} file={f} />
      ))}
    </div>
  );
}

function FileCounts({ file }: { file: File }) {
  if (file.binary) return <span className="muted">binary</span>;
  return (
    <>
      <span className="diff-added">+{file.additions}</span> <span className="diff-removed">−{file.deletions}</span>
    </>
  );
}

function FileDiff({ file }: { file: File }) {
  return (
    <figure className="diff" aria-label={`Changes to ${file.path}`} data-path={file.path}>
      <figcaption>
        <code>{file.path}</code> {STATUS[file.status] && <span className="badge">{STATUS[file.status]}</span>} <FileCounts file={file} />
      </figcaption>
      {file.binary ? (
        <p className="muted diff-note">Binary file: its contents differ.</p>
      ) : file.note ? (
        <p className="muted diff-note">{file.note}</p>
      ) : (
        <table className="diff-table">
          {file.hunks.map((h, i) => (
            <HunkRows key={i} hunk={h} />
          ))}
        </table>
      )}
    </figure>
  );
}

function HunkRows({ hunk }: { hunk: Hunk }) {
  let oldNo = hunk.oldStart;
  let newNo = hunk.newStart;
  return (
    <tbody>
      <tr className="diff-hunk">
        <td colSpan={3}>
          @@ -{hunk.oldStart},{hunk.oldLines} +{hunk.newStart},{hunk.newLines} @@ {hunk.section}
        </td>
      </tr>
      {hunk.lines.map((line, i) => {
        const mark = line[0];
        if (mark === '\\') {
          return (
            <tr key={i} className="diff-line note">
              <td />
              <td />
              <td className="muted">{line.slice(2)}</td>
            </tr>
          );
        }
        const kind = mark === '+' ? 'added' : mark === '-' ? 'removed' : 'context';
        const o = mark === '+' ? '' : oldNo++;
        const n = mark === '-' ? '' : newNo++;
        return (
          <tr key={i} className={`diff-line ${kind}`}>
            <td className="ln">{o}</td>
            <td className="ln">{n}</td>
            <td className="code">
              {mark === ' ' ? ' ' : mark} {line.slice(1)}
            </td>
          </tr>
        );
      })}
    </tbody>
  );
}
