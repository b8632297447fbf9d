import { stat } from 'node:fs/promises';
import { spawnGit } from '../workspace/run-git.ts';
import { capOutput, fail, succeed, type ToolDefinition } from './tool.ts';
import { resolveWorkspacePath } from './workspace-path.ts';

/** Paths listed at most; the model narrows with `path` beyond that. */
export const MAX_LISTED_FILES = 2000;

export const listFilesTool: ToolDefinition = {
  name: 'list_files',
  description:
    'List the files of the workspace (or of one directory in it), one path per line relative to the workspace root. Files ignored by .gitignore are left out.',
  inputSchema: {
    type: 'object',
    properties: { path: { type: 'string', description: 'A directory relative to the workspace root; default: the whole workspace.' } },
    additionalProperties: false,
  },
  async execute(args: { path?: string }, ctx) {
    const target = await resolveWorkspacePath(ctx.workspaceDir, args.path ?? '.', 'read');
    const info = await stat(target.absolute).catch(() => null);
    if (!info) return fail(`${target.relative} does not exist.`);
    if (info.isFile()) return succeed(target.relative);
    // Tracked and untracked-but-not-ignored files: what the crew would see in `git status`.
    const r = await spawnGit(['ls-files', '--cached', '--others', '--exclude-standard', '--deduplicate', '-z', '--', target.relative], {
      cwd: ctx.workspaceDir,
      env: { GIT_LITERAL_PATHSPECS: '1' },
      timeoutMs: 30_000,
      maxOutputBytes: 4 * 1024 * 1024,
    });
    if (r.code !== 0 && !r.overflowed) return fail(`Could not list files: ${r.stderr.trim() || `git exited with ${r.code}`}`);
    const all = r.stdout.toString('utf8').split('\0').filter(Boolean);
    if (r.overflowed) all.pop(); // the last name may be cut
    if (all.length === 0) return succeed(`${target.relative === '.' ? 'The workspace' : target.relative} has no files.`);
    const shown = all.slice(0, MAX_LISTED_FILES);
    const more = r.overflowed || all.length > MAX_LISTED_FILES ? `\n[more files not listed: give a directory as path to see them]` : '';
    return succeed(capOutput(shown.join('\n') + more));
  },
};
