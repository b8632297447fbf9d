import type { Readable } from 'node:stream';
import { comparePatches, DifferentBaseError, type ComparedFile } from '../diff/compare-patches.ts';
import { parsePatch } from '../diff/parse-patch.ts';
import { AppError, badInput } from '../errors.ts';
import { builder } from './builder.ts';
import type { GraphQLContext } from './context.ts';
import { responseBudgetOf } from './response-budget.ts';

// An attempt's change as a rendered diff: against its base commit (`JobAttempt.diff`, read from the
// changes.patch the runner stored) and against another attempt of the job (`diffSince`, computed
// from the two patches by compare-patches.ts — the API holds neither repository nor workspaces).
// Bounded like the other large fields: the patches' sizes are reserved in the request's response
// budget before they are read (and the answer's own size once known), and one answer carries at
// most MAX_DIFF_LINES lines (the files past it are listed with their counts, without hunks).

export const PATCH_PATH = 'changes.patch';
/** Lines (of hunks) one diff carries. */
export const MAX_DIFF_LINES = 20_000;
/** Larger patches are not read (the runner stores none over 1 MiB). */
export const MAX_PATCH_BYTES = 4 * 1024 * 1024;

const DiffFileStatus = builder.enumType('DiffFileStatus', { values: ['ADDED', 'DELETED', 'MODIFIED'] as const });

interface DiffShape {
  fromAttempt: number | null;
  toAttempt: number;
  baseCommit: string | null;
  files: ComparedFile[];
  linesCut: number;
  unavailableReason: string | null;
}

const DiffHunk = builder.objectRef<ComparedFile['hunks'][number]>('DiffHunk').implement({
  description: 'One hunk of a unified diff.',
  fields: (t) => ({
    oldStart: t.exposeInt('oldStart'),
    oldLines: t.exposeInt('oldLines'),
    newStart: t.exposeInt('newStart'),
    newLines: t.exposeInt('newLines'),
    section: t.exposeString('section', { description: "What follows the hunk header (git's function context); may be empty." }),
    lines: t.exposeStringList('lines', {
      description: 'The lines with their marker: " " context, "-" removed, "+" added, "\\" no newline at the end of the line before.',
    }),
  }),
});

const DiffFile = builder.objectRef<ComparedFile>('DiffFile').implement({
  description: 'One file of a diff.',
  fields: (t) => ({
    path: t.exposeString('path'),
    status: t.field({ type: DiffFileStatus, resolve: (f) => f.status }),
    binary: t.exposeBoolean('binary', { description: 'A binary file: its versions differ, no lines are shown.' }),
    additions: t.exposeInt('additions'),
    deletions: t.exposeInt('deletions'),
    hunks: t.field({
      type: [DiffHunk],
      description: `Empty for a binary file, and for files past the diff's ${MAX_DIFF_LINES.toLocaleString('en-US')} lines (see \`linesCut\`).`,
      resolve: (f) => f.hunks,
    }),
    note: t.exposeString('note', { nullable: true, description: "Why the file's lines are not shown, when that is not evident." }),
  }),
});

const AttemptDiff = builder.objectRef<DiffShape>('AttemptDiff').implement({
  description: "An attempt's change as a diff: against its base commit, or against another attempt's result.",
  fields: (t) => ({
    fromAttempt: t.exposeInt('fromAttempt', {
      nullable: true,
      description: 'The attempt whose result the diff starts from; null: the base commit.',
    }),
    toAttempt: t.exposeInt('toAttempt'),
    baseCommit: t.exposeString('baseCommit', { nullable: true }),
    files: t.field({ type: [DiffFile], resolve: (d) => d.files }),
    additions: t.int({ resolve: (d) => d.files.reduce((n, f) => n + f.additions, 0) }),
    deletions: t.int({ resolve: (d) => d.files.reduce((n, f) => n + f.deletions, 0) }),
    linesCut: t.exposeInt('linesCut', {
      description: `Lines left out to keep the answer within ${MAX_DIFF_LINES.toLocaleString('en-US')} lines: files after the cut come without hunks.`,
    }),
    unavailableReason: t.exposeString('unavailableReason', {
      nullable: true,
      description: 'Why no diff could be computed (`files` is then empty).',
    }),
  }),
});

interface AttemptRow {
  id: string;
  jobId: string;
  number: number;
  baseCommit: string | null;
}

builder.prismaObjectField('JobAttempt', 'diff', (t) =>
  t.field({
    type: AttemptDiff,
    nullable: true,
    description: `The attempt's change against its base commit (the ${PATCH_PATH} its crew produced), as files and hunks; null when it stored no ${PATCH_PATH} (not on the agent runtime, still running, or it changed nothing).`,
    select: { id: true, jobId: true, number: true, baseCommit: true },
    resolve: async (a, _args, ctx) => {
      const patch = await readPatches(ctx, [a]);
      if (!patch) return null;
      const [text] = patch;
      if (text === null) return null;
      return bounded(ctx, {
        fromAttempt: null,
        toAttempt: a.number,
        baseCommit: a.baseCommit,
        files: parsePatch(text).map((f) => ({ ...f, note: null })),
        linesCut: 0,
        unavailableReason: null,
      });
    },
  }),
);

builder.prismaObjectField('JobAttempt', 'diffSince', (t) =>
  t.field({
    type: AttemptDiff,
    nullable: true,
    description:
      "What changed from another attempt's result to this one's (both from the same base commit), computed from their patches; `attempt` defaults to the previous one, so attempt 1 gives null. `unavailableReason` says why when it cannot be computed (an attempt stored no patch, or they started from different commits).",
    args: { attempt: t.arg.int({ description: 'The number of the attempt to compare with (another attempt of the same job).' }) },
    select: { id: true, jobId: true, number: true, baseCommit: true },
    resolve: async (a, args, ctx) => {
      const number = args.attempt ?? a.number - 1;
      if (args.attempt == null && number < 1) return null;
      if (number < 1 || number === a.number)
        throw badInput(`\`attempt\` must name another attempt of this job, 1 or more (this one is attempt ${a.number}).`);
      const { rows } = await ctx.services.pool.query<AttemptRow>(
        `SELECT id::text AS id, "jobId"::text AS "jobId", number, "baseCommit" FROM "JobAttempt" WHERE "jobId" = $1 AND number = $2`,
        [a.jobId, number],
      );
      const other = rows.at(0);
      if (!other) throw new AppError('NOT_FOUND', `This job has no attempt ${number}.`);
      const shape = { fromAttempt: other.number, toAttempt: a.number, baseCommit: a.baseCommit, files: [] as ComparedFile[], linesCut: 0 };
      if (other.baseCommit && a.baseCommit && other.baseCommit !== a.baseCommit) {
        return { ...shape, unavailableReason: differentBases(other, a) };
      }
      const patches = await readPatches(ctx, [other, a]);
      if (!patches)
        return { ...shape, unavailableReason: `A patch is larger than ${MAX_PATCH_BYTES / 1024 / 1024} MiB: it is not compared.` };
      const [before, after] = patches;
      if (before == null || after == null) {
        const missing = [before == null ? other : null, after == null ? a : null].filter((m) => m !== null);
        return {
          ...shape,
          unavailableReason: `${missing.map((m) => `Attempt ${m.number}`).join(' and ')} stored no ${PATCH_PATH} (${missing.length > 1 ? 'they' : 'it'} changed nothing, did not finish, or the patch was too large to store; the log says which).`,
        };
      }
      try {
        return bounded(ctx, { ...shape, files: comparePatches(parsePatch(before), parsePatch(after)), unavailableReason: null });
      } catch (err) {
        if (err instanceof DifferentBaseError) return { ...shape, unavailableReason: `${differentBases(other, a)} ${err.message}` };
        throw err;
      }
    },
  }),
);

builder.prismaObjectField('Job', 'attempt', (t) =>
  t.prismaField({
    type: 'JobAttempt',
    nullable: true,
    description: 'One attempt of the job, by its number (null when there is none).',
    args: { number: t.arg.int({ required: true }) },
    resolve: (query, job, { number }, ctx) => {
      if (!Number.isInteger(number) || number < 1) throw badInput('`number` must be an attempt number, 1 or more.');
      return ctx.services.db.jobAttempt.findUnique({ ...query, where: { jobId_number: { jobId: job.id, number } } });
    },
  }),
);

const differentBases = (x: AttemptRow, y: AttemptRow) =>
  `Attempt ${x.number} started from ${x.baseCommit?.slice(0, 12) ?? 'an unrecorded commit'} and attempt ${y.number} from ${y.baseCommit?.slice(0, 12) ?? 'an unrecorded commit'}: their changes cannot be compared line by line (each one's diff against its base can).`;

/**
 * The attempts' changes.patch texts (null for one that stored none), after reserving their sizes in
 * the response budget; null when one is larger than MAX_PATCH_BYTES.
 */
async function readPatches(ctx: GraphQLContext, attempts: AttemptRow[]): Promise<(string | null)[] | null> {
  const { rows } = await ctx.services.pool.query<{ attemptId: string; storageKey: string; sizeBytes: number }>(
    `SELECT DISTINCT ON ("attemptId") "attemptId"::text AS "attemptId", "storageKey", "sizeBytes" FROM "Artifact"
     WHERE "attemptId" = ANY($1::uuid[]) AND path = $2 ORDER BY "attemptId", "createdAt" DESC`,
    [attempts.map((a) => a.id), PATCH_PATH],
  );
  const byAttempt = new Map(rows.map((r) => [r.attemptId, r]));
  const found = attempts.map((a) => byAttempt.get(a.id) ?? null);
  if (found.some((f) => f && f.sizeBytes > MAX_PATCH_BYTES)) return null;
  const total = found.reduce((n, f) => n + (f?.sizeBytes ?? 0), 0);
  const budget = responseBudgetOf(ctx);
  if (budget && total) {
    await budget.inTurn(() => {
      budget.take(total);
      return Promise.resolve();
    });
  }
  return Promise.all(
    found.map(async (f) => {
      if (!f) return null;
      const stored = await ctx.services.artifacts.get(f.storageKey);
      if (!stored) throw new AppError('INTERNAL_SERVER_ERROR', `The stored ${PATCH_PATH} of this attempt could not be read.`);
      return (await readAll(stored.stream, MAX_PATCH_BYTES)).toString('utf8');
    }),
  );
}

async function readAll(stream: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      stream.destroy();
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** At most MAX_DIFF_LINES lines; the answer's size beyond what was reserved for the patches is counted too. */
function bounded(ctx: GraphQLContext, diff: DiffShape): DiffShape {
  let lines = 0;
  let cut = 0;
  const files = diff.files.map((f) => {
    const n = f.hunks.reduce((s, h) => s + h.lines.length, 0);
    if (lines + n <= MAX_DIFF_LINES) {
      lines += n;
      return f;
    }
    cut += n;
    return { ...f, hunks: [], note: f.note ?? `Not shown: the diff is cut at ${MAX_DIFF_LINES.toLocaleString('en-US')} lines.` };
  });
  const out = { ...diff, files, linesCut: cut };
  // JSON quoting makes the answer somewhat larger than the patch text reserved before reading it.
  const extra = files.reduce((s, f) => s + f.hunks.reduce((x, h) => x + h.lines.length * 3 + 80, 0) + f.path.length + 120, 0);
  responseBudgetOf(ctx)?.take(extra);
  return out;
}
