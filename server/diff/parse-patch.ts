// A `git diff` (as the runner stores it in changes.patch: `--binary --no-renames`) read into files
// and hunks, for showing and for comparing two attempts (compare-patches.ts).

export type FileStatus = 'ADDED' | 'DELETED' | 'MODIFIED';

export interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** What follows the second `@@` (git's function context), may be empty. */
  section: string;
  /** Unified lines with their marker: ' ' context, '-' removed, '+' added, '\' "No newline at end of file" of the line before. */
  lines: string[];
}

export interface FilePatch {
  path: string;
  status: FileStatus;
  binary: boolean;
  /** Object ids of the file before and after (`index` line; full with `--binary`), when git wrote them. */
  oldId: string | null;
  newId: string | null;
  oldMode: string | null;
  newMode: string | null;
  additions: number;
  deletions: number;
  hunks: Hunk[];
}

const DIFF_GIT = 'diff --git ';
const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$/;

/** Reads a git patch. Text that is not a git patch gives no files; a cut-off last hunk keeps the lines it has. */
export function parsePatch(text: string): FilePatch[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const files: FilePatch[] = [];
  let i = 0;
  while (i < lines.length) {
    if (!lines[i].startsWith(DIFF_GIT)) {
      i++;
      continue;
    }
    const file: FilePatch = {
      path: headerPath(lines[i]),
      status: 'MODIFIED',
      binary: false,
      oldId: null,
      newId: null,
      oldMode: null,
      newMode: null,
      additions: 0,
      deletions: 0,
      hunks: [],
    };
    files.push(file);
    i++;
    // Extended headers, then `---`/`+++`, hunks or a binary patch, until the next file.
    while (i < lines.length && !lines[i].startsWith(DIFF_GIT)) {
      const line = lines[i];
      let m: RegExpExecArray | null;
      if ((m = /^new file mode (\d+)/.exec(line))) {
        file.status = 'ADDED';
        file.newMode = m[1];
      } else if ((m = /^deleted file mode (\d+)/.exec(line))) {
        file.status = 'DELETED';
        file.oldMode = m[1];
      } else if ((m = /^old mode (\d+)/.exec(line))) file.oldMode = m[1];
      else if ((m = /^new mode (\d+)/.exec(line))) file.newMode = m[1];
      else if ((m = /^index ([0-9a-f]+)\.\.([0-9a-f]+)(?: (\d+))?/.exec(line))) {
        file.oldId = m[1];
        file.newId = m[2];
        if (m[3]) file.oldMode = file.newMode = m[3];
      } else if (line === 'GIT binary patch' || /^Binary files .* differ$/.test(line)) file.binary = true;
      else if (line.startsWith('+++ ') && file.status !== 'DELETED') file.path = headerName(line).replace(/^b\//, '');
      else if (line.startsWith('--- ') && file.status === 'DELETED') file.path = headerName(line).replace(/^a\//, '');
      else if ((m = HUNK.exec(line)) && !file.binary) {
        const hunk: Hunk = {
          oldStart: +m[1],
          oldLines: m[2] ? +m[2] : 1,
          newStart: +m[3],
          newLines: m[4] ? +m[4] : 1,
          section: m[5],
          lines: [],
        };
        file.hunks.push(hunk);
        // Count the lines the header announces: a removed line may itself start with "--".
        let old = hunk.oldLines;
        let added = hunk.newLines;
        i++;
        while (i < lines.length && (old > 0 || added > 0 || lines[i].startsWith('\\'))) {
          const l = lines[i];
          const mark = l === '' ? ' ' : l[0];
          if (mark === '\\') hunk.lines.push(l);
          else if (mark === '-' && old > 0) {
            old--;
            file.deletions++;
            hunk.lines.push(l);
          } else if (mark === '+' && added > 0) {
            added--;
            file.additions++;
            hunk.lines.push(l);
          } else if ((mark === ' ' || l === '') && old > 0 && added > 0) {
            old--;
            added--;
            hunk.lines.push(l === '' ? ' ' : l);
          } else break;
          i++;
        }
        continue;
      }
      i++;
    }
  }
  return files;
}

/** The b/ path of `diff --git a/x b/x` (used when no ---/+++ lines follow: a mode change, a binary file). */
function headerPath(line: string): string {
  const rest = line.slice(DIFF_GIT.length);
  if (rest.startsWith('"')) {
    const second = rest.lastIndexOf(' "');
    return unquote(rest.slice(second + 1)).replace(/^b\//, '');
  }
  // Without renames both paths are the same: "a/<p> b/<p>".
  const half = (rest.length - 1) / 2;
  return rest.slice(half + 1).replace(/^b\//, '');
}

/** The name of a `---`/`+++` line (git ends it with a tab when it holds a space). */
const headerName = (line: string) => unquote(line.slice(4).replace(/\t$/, ''));

/** Git's C-style quoting ("a/t\303\251st\tx") back to text; octal escapes are UTF-8 bytes. */
export function unquote(s: string): string {
  if (!s.startsWith('"') || !s.endsWith('"') || s.length < 2) return s;
  const bytes: number[] = [];
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, b: 8, f: 12, v: 11, a: 7, '"': 34, '\\': 92 };
  const body = s.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = body.charAt(i + 1);
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(simple[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
