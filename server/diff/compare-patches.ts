import { diffArrays } from 'diff';
import type { FilePatch, FileStatus, Hunk } from './parse-patch.ts';

// What changed between two attempts, from their patches alone (the API has neither the repository
// nor the workspaces, which may be on another machine or gone). Both patches start from the same
// base commit, so every line either of them shows (context or removed) is a line of the base file,
// at a known line number. Those lines, with the runs neither shows as gaps of known length, are a
// skeleton of the base file; each patch applied to it gives a skeleton of that attempt's file, in
// which the gaps are the same untouched base lines. A diff of the two skeletons (a gap equal only to
// itself) is then exactly the diff of the two attempts' files, shown where it can be: context
// stops at a gap, line numbers count the gaps. compare-patches.test.ts checks it against real files.

export interface ComparedFile {
  path: string;
  status: FileStatus;
  binary: boolean;
  additions: number;
  deletions: number;
  hunks: Hunk[];
  /** Why the file's lines are not shown (its versions could not be compared line by line). */
  note: string | null;
}

/** The two patches disagree about the base (a line of the base file reads differently in each). */
export class DifferentBaseError extends Error {}

const CONTEXT = 3;
/** Beyond this many differing lines in one file, its versions are not compared line by line. */
export const MAX_EDIT_LINES = 20_000;
const NO_EOL = '\\ No newline at end of file';

type Token = { t: 'line'; text: string; noEol: boolean } | { t: 'gap'; id: number; length: number };

/** The diff from the files patch `a` leaves to those patch `b` leaves, both applied on the same base. */
export function comparePatches(a: FilePatch[], b: FilePatch[]): ComparedFile[] {
  const before = new Map(a.map((f) => [f.path, f]));
  const after = new Map(b.map((f) => [f.path, f]));
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  const out: ComparedFile[] = [];
  for (const path of paths) {
    const fa = before.get(path);
    const fb = after.get(path);
    const file = fa && fb ? compareFile(fa, fb) : fa ? reversed(fa) : fb ? toCompared(fb) : null;
    if (file) out.push(file);
  }
  return out;
}

function toCompared(f: FilePatch): ComparedFile {
  return { path: f.path, status: f.status, binary: f.binary, additions: f.additions, deletions: f.deletions, hunks: f.hunks, note: null };
}

/** Only the first attempt changed the file: the second has the base's version, so the change is the first one undone. */
function reversed(f: FilePatch): ComparedFile {
  const flip = (l: string) => (l[0] === '+' ? `-${l.slice(1)}` : l[0] === '-' ? `+${l.slice(1)}` : l);
  const hunks = f.hunks.map((h) => ({
    oldStart: h.newStart,
    oldLines: h.newLines,
    newStart: h.oldStart,
    newLines: h.oldLines,
    section: h.section,
    lines: reorder(h.lines.map(flip)),
  }));
  const status: FileStatus = f.status === 'ADDED' ? 'DELETED' : f.status === 'DELETED' ? 'ADDED' : 'MODIFIED';
  return { path: f.path, status, binary: f.binary, additions: f.deletions, deletions: f.additions, hunks, note: null };
}

/** In each run of changed lines, removed lines before added ones (as git writes them); a "\\ No newline" marker stays with its line. */
function reorder(lines: string[]): string[] {
  const units: string[][] = [];
  for (const l of lines) {
    const last = units.at(-1);
    if (l[0] === '\\' && last) last.push(l);
    else units.push([l]);
  }
  const out: string[] = [];
  let removed: string[][] = [];
  let added: string[][] = [];
  const flush = () => {
    for (const u of [...removed, ...added]) out.push(...u);
    removed = [];
    added = [];
  };
  for (const u of units) {
    if (u[0][0] === '-') removed.push(u);
    else if (u[0][0] === '+') added.push(u);
    else {
      flush();
      out.push(...u);
    }
  }
  flush();
  return out;
}

function compareFile(fa: FilePatch, fb: FilePatch): ComparedFile | null {
  // Git names a version by its content: the same full object id after both patches is the same
  // file (git abbreviates the ids of text files, which are compared line by line instead).
  const existsA = fa.status !== 'DELETED';
  const existsB = fb.status !== 'DELETED';
  if (!existsA && !existsB) return null;
  if (fa.newId && fa.newId === fb.newId && /^[0-9a-f]{40,64}$/.test(fa.newId) && !/^0+$/.test(fa.newId)) return null;
  const status: FileStatus = existsA && existsB ? 'MODIFIED' : existsB ? 'ADDED' : 'DELETED';
  if (fa.binary || fb.binary) return { path: fa.path, status, binary: true, additions: 0, deletions: 0, hunks: [], note: null };

  const known = baseLines(fa, fb);
  const cuts = new Set<number>();
  let last = 0;
  for (const h of [...fa.hunks, ...fb.hunks]) {
    const start = h.oldLines === 0 ? h.oldStart + 1 : h.oldStart;
    cuts.add(start);
    cuts.add(start + h.oldLines);
    last = Math.max(last, start + h.oldLines - 1);
  }
  // The base file's lines 1..last as tokens: known lines, and gaps split wherever a hunk begins or ends.
  const base: Token[] = [];
  for (let n = 1; n <= last;) {
    const line = known.get(n);
    if (line) {
      base.push({ t: 'line', ...line });
      n++;
      continue;
    }
    let end = n;
    while (end + 1 <= last && !known.has(end + 1) && !cuts.has(end + 1)) end++;
    base.push({ t: 'gap', id: n, length: end - n + 1 });
    n = end + 1;
  }
  // Past the last line either patch shows, the rest of the file (if any) is the same in both
  // (none when either patch shows the whole base: it added or deleted the file).
  const whole = [fa.status, fb.status].some((s) => s === 'ADDED' || s === 'DELETED');
  const tail: Token[] = whole ? [] : [{ t: 'gap', id: last + 1, length: 0 }];
  const starts = lineStarts(base);
  const left = existsA ? applyTo(base, starts, tail, fa) : [];
  const right = existsB ? applyTo(base, starts, tail, fb) : [];
  const ops = diffAround(left, right);
  if (!ops)
    return {
      path: fa.path,
      status,
      binary: false,
      additions: 0,
      deletions: 0,
      hunks: [],
      note: `The two versions differ in more than ${MAX_EDIT_LINES.toLocaleString('en-US')} lines: not compared line by line.`,
    };
  const hunks = toHunks(ops);
  if (!hunks.length) return null;
  const count = (mark: string) => hunks.reduce((n, h) => n + h.lines.filter((l) => l[0] === mark).length, 0);
  return { path: fa.path, status, binary: false, additions: count('+'), deletions: count('-'), hunks, note: null };
}

type Op = { k: ' ' | '-' | '+'; tok: Token };
const sameLine = (x: Token, y: Token) => x.t === 'line' && y.t === 'line' && x.text === y.text && x.noEol === y.noEol;

/**
 * The line diff of two skeletons, one stretch between gaps at a time: both hold the same gaps in
 * the same order (lines no patch shows), which must stay matched — a diff of the whole could trade
 * a gap for more matching lines across it. Null past MAX_EDIT_LINES differences.
 */
function diffAround(left: Token[], right: Token[]): Op[] | null {
  const split = (tokens: Token[]) => {
    let current: Token[] = [];
    const stretches: Token[][] = [current];
    const gaps: Token[] = [];
    for (const tok of tokens) {
      if (tok.t === 'gap') {
        gaps.push(tok);
        stretches.push((current = []));
      } else current.push(tok);
    }
    return { stretches, gaps };
  };
  const l = split(left);
  const r = split(right);
  // A deleted side has no lines at all: one stretch against the other side's whole.
  if (l.gaps.length !== r.gaps.length) return diffStretch(left, right);
  const ops: Op[] = [];
  let edits = 0;
  for (let i = 0; i < l.stretches.length; i++) {
    const part = diffStretch(l.stretches[i], r.stretches[i], MAX_EDIT_LINES - edits);
    if (!part) return null;
    edits += part.filter((op) => op.k !== ' ').length;
    ops.push(...part);
    if (i < l.gaps.length) ops.push({ k: ' ', tok: l.gaps[i] });
  }
  return ops;
}

function diffStretch(left: Token[], right: Token[], maxEditLength = MAX_EDIT_LINES): Op[] | null {
  if (!left.length || !right.length)
    return [...left.map((tok) => ({ k: '-' as const, tok })), ...right.map((tok) => ({ k: '+' as const, tok }))];
  const parts = diffArrays(left, right, { comparator: sameLine, maxEditLength });
  if (!parts) return null;
  return parts.flatMap((p) => p.value.map((tok) => ({ k: p.added ? ('+' as const) : p.removed ? ('-' as const) : (' ' as const), tok })));
}

/** Every base line either patch shows (context and removed lines), by line number; they must agree. */
function baseLines(...patches: FilePatch[]): Map<number, { text: string; noEol: boolean }> {
  const known = new Map<number, { text: string; noEol: boolean }>();
  for (const f of patches) {
    for (const h of f.hunks) {
      let n = h.oldStart;
      let lastOld: number | null = null;
      let prev = '';
      for (const l of h.lines) {
        if (l[0] === '\\') {
          const line = lastOld === null ? undefined : known.get(lastOld);
          if ((prev === ' ' || prev === '-') && line) line.noEol = true;
          continue;
        }
        prev = l[0];
        if (l[0] === ' ' || l[0] === '-') {
          const text = l.slice(1);
          const seen = known.get(n);
          if (seen && seen.text !== text) throw new DifferentBaseError(`${f.path}: line ${n} of the base differs between the two patches.`);
          if (!seen) known.set(n, { text, noEol: false });
          lastOld = n++;
        }
      }
    }
  }
  return known;
}

/** The patch applied to the base skeleton: its new-side lines in place of the base lines its hunks cover. */
function applyTo(base: Token[], starts: number[], tail: Token[], f: FilePatch): Token[] {
  const out: Token[] = [];
  let pos = 1; // the first base line not yet replaced
  let idx = 0; // the next base token to look at
  const copyBefore = (line: number) => {
    for (; idx < base.length && starts[idx] < line; idx++) if (starts[idx] >= pos) out.push(base[idx]);
  };
  for (const h of f.hunks) {
    const start = h.oldLines === 0 ? h.oldStart + 1 : h.oldStart;
    copyBefore(start);
    let added: Token | null = null;
    let prev = '';
    for (const l of h.lines) {
      if (l[0] === '\\') {
        if ((prev === ' ' || prev === '+') && added?.t === 'line') added.noEol = true;
        continue;
      }
      prev = l[0];
      if (l[0] === ' ' || l[0] === '+') out.push((added = { t: 'line', text: l.slice(1), noEol: false }));
    }
    pos = start + h.oldLines;
  }
  copyBefore(Infinity);
  return out.concat(tail);
}

/** The base line number each skeleton token starts at. */
function lineStarts(base: Token[]): number[] {
  const starts: number[] = [];
  let n = 1;
  for (const tok of base) {
    starts.push(n);
    n += tok.t === 'gap' ? tok.length : 1;
  }
  return starts;
}

/** Unified hunks with up to three lines of context; context never crosses a gap, and line numbers count it. */
function toHunks(ops: Op[]): Hunk[] {
  const oldAt: number[] = [];
  const newAt: number[] = [];
  let o = 1;
  let n = 1;
  for (const op of ops) {
    oldAt.push(o);
    newAt.push(n);
    const size = op.tok.t === 'gap' ? op.tok.length : 1;
    if (op.k !== '+') o += size;
    if (op.k !== '-') n += size;
  }
  const isContextLine = (i: number) => i >= 0 && i < ops.length && ops[i].k === ' ' && ops[i].tok.t === 'line';
  const hunks: Hunk[] = [];
  let i = 0;
  while (i < ops.length) {
    if (ops[i].k === ' ') {
      i++;
      continue;
    }
    let s = i;
    while (s > i - CONTEXT && isContextLine(s - 1)) s--;
    let j = i;
    let end: number;
    for (;;) {
      while (j < ops.length && ops[j].k !== ' ') j++;
      let k = j;
      while (isContextLine(k) && k - j <= 2 * CONTEXT) k++;
      if (k < ops.length && ops[k].k !== ' ' && k - j <= 2 * CONTEXT) {
        j = k;
        continue;
      }
      end = Math.min(j + CONTEXT, k);
      break;
    }
    const lines: string[] = [];
    let oldLines = 0;
    let newLines = 0;
    for (let x = s; x < end; x++) {
      const { k, tok } = ops[x];
      if (tok.t !== 'line') continue;
      lines.push(k + tok.text);
      if (tok.noEol) lines.push(NO_EOL);
      if (k !== '+') oldLines++;
      if (k !== '-') newLines++;
    }
    hunks.push({
      oldStart: oldLines ? oldAt[s] : oldAt[s] - 1,
      oldLines,
      newStart: newLines ? newAt[s] : newAt[s] - 1,
      newLines,
      section: '',
      lines,
    });
    i = end;
  }
  return hunks;
}
