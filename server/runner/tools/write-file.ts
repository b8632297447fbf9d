import { constants } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import { fail, MAX_TOOL_FILE_BYTES, succeed, type ToolDefinition } from './tool.ts';
import { resolveWorkspacePath } from './workspace-path.ts';

export const writeFileTool: ToolDefinition = {
  name: 'write_file',
  description: 'Create or replace a file of the workspace with the given content (missing directories are created).',
  inputSchema: {
    type: 'object',
    properties: {
      path: { type: 'string', description: 'File path relative to the workspace root.' },
      content: { type: 'string', description: 'The whole new content of the file.' },
    },
    required: ['path', 'content'],
    additionalProperties: false,
  },
  async execute(args: { path: string; content: string }, ctx) {
    const target = await resolveWorkspacePath(ctx.workspaceDir, args.path, 'write');
    if (target.relative === '.') return fail('write_file needs a file path, not the workspace root.');
    const bytes = Buffer.byteLength(args.content);
    const existed = await stat(target.absolute).catch(() => null);
    if (existed?.isDirectory()) return fail(`${target.relative} is a directory.`);
    const made = await writeWorkspaceFile(target.absolute, args.content);
    if (made) return fail(`${target.relative} cannot be written: ${made}.`);
    return succeed(`${existed ? 'Replaced' : 'Created'} ${target.relative} (${bytes} bytes).`);
  },
};

/**
 * Writes a file the path checks cleared, for every tool that writes; O_NOFOLLOW keeps a link planted
 * since from being followed, and no file grows past MAX_TOOL_FILE_BYTES. Returns a problem or null.
 */
export async function writeWorkspaceFile(absolute: string, content: string): Promise<string | null> {
  const bytes = Buffer.byteLength(content);
  if (bytes > MAX_TOOL_FILE_BYTES) return `the new content is ${bytes} bytes, more than the ${MAX_TOOL_FILE_BYTES} bytes a file may have`;
  try {
    await mkdir(path.dirname(absolute), { recursive: true });
    const handle = await open(absolute, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
    try {
      await handle.writeFile(content, 'utf8');
    } finally {
      await handle.close();
    }
    return null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ELOOP' ? 'it is a symbolic link' : code === 'ENOTDIR' ? 'a parent of it is a file' : (code ?? String(e));
  }
}
