import { spawnGit } from '../workspace/run-git.ts';
import { capOutput, fail, succeed, type ToolDefinition } from './tool.ts';
import { resolveWorkspacePath } from './workspace-path.ts';

/** Matching lines shown per file; the model narrows the pattern or path for more. */
export const MAX_MATCHES_PER_FILE = 50;

export const searchTool: ToolDefinition = {
  name: 'search',
  description:
    'Search the workspace files for a regular expression (POSIX extended, as `git grep -E`); prints file:line:text for each matching line. Files ignored by .gitignore and binary files are skipped.',
  inputSchema: {
    type: 'object',
    properties: {
      pattern: {
        type: 'string',
        minLength: 1,
        maxLength: 1000,
        description: 'Extended regular expression; an invalid one is searched as plain text.',
      },
      path: { type: 'string', description: 'Limit the search to this file or directory (relative to the workspace root).' },
    },
    required: ['pattern'],
    additionalProperties: false,
  },
  async execute(args: { pattern: string; path?: string }, ctx) {
    const target = await resolveWorkspacePath(ctx.workspaceDir, args.path ?? '.', 'read');
    const grep = (mode: '-E' | '-F') =>
      spawnGit(
        [
          'grep',
          '-n',
          '-I',
          '--untracked',
          '--no-color',
          '--full-name',
          '-m',
          String(MAX_MATCHES_PER_FILE),
          mode,
          '-e',
          args.pattern,
          '--',
          target.relative,
        ],
        {
          cwd: ctx.workspaceDir,
          env: { GIT_LITERAL_PATHSPECS: '1' },
          timeoutMs: 30_000,
          maxOutputBytes: 512 * 1024,
        },
      );
    let r = await grep('-E');
    let note = '';
    if (r.code === 128 && /regex|regular expression|Unmatched|Invalid/i.test(r.stderr)) {
      note = `[the pattern is not a valid extended regular expression, so it was searched as plain text]\n`;
      r = await grep('-F');
    }
    if (r.timedOut) return fail('The search took longer than 30 seconds; use a simpler pattern or a narrower path.');
    if (r.code === 1 && !r.overflowed) return succeed(`${note}No matches.`);
    if (r.code !== 0 && !r.overflowed)
      return fail(`The search failed: ${r.stderr.trim().split('\n').slice(-3).join(' ') || `git grep exited with ${r.code}`}`);
    const text = r.stdout.toString('utf8');
    const lines = r.overflowed ? text.slice(0, text.lastIndexOf('\n')) : text.trimEnd();
    return succeed(capOutput(note + lines + (r.overflowed ? '\n[more matches not shown: narrow the pattern or the path]' : '')));
  },
};
