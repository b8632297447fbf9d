import { diffLines } from 'diff';
import { useMemo } from 'react';

/** A line diff of one file: `before` null means a new file. */
export function DiffView({ path, before, after }: { path: string; before: string | null; after: string }) {
  const parts = useMemo(() => diffLines(before ?? '', after), [before, after]);
  const added = parts.filter((p) => p.added).reduce((n, p) => n + (p.count ?? 0), 0);
  const removed = parts.filter((p) => p.removed).reduce((n, p) => n + (p.count ?? 0), 0);
  return (
    <figure className="diff" aria-label={`Changes to ${path}`}>
      <figcaption>
        <code>{path}</code> {before === null && <span className="badge">new file</span>} <span className="diff-added">+{added}</span>{' '}
        <span className="diff-removed">−{removed}</span>
      </figcaption>
      <pre>
        {parts.flatMap((p, i) =>
          p.value
            .replace(/\n$/, '')
            .split('\n')
            .map((line, j) => (
              <div key={`${i}:${j}`} className={p.added ? 'diff-line added' : p.removed ? 'diff-line removed' : 'diff-line'}>
                {p.added ? '+ ' : p.removed ? '- ' : '  '}
                {line}
              </div>
            )),
        )}
      </pre>
    </figure>
  );
}
