import { open } from 'node:fs/promises';
import { constants } from 'node:fs';
import { capOutput, fail, MAX_TOOL_FILE_BYTES, MAX_TOOL_OUTPUT_CHARS, succeed, type ToolDefinition } from './tool.ts';
import { resolveWorkspacePath } from './workspace-path.ts';

export const readFileTool: ToolDefinition = {
  name: 'read_file',
  description:
    'Read a text file of the workspace, whole or lines startLine..endLine (1-based, inclusive). Long output is cut: read long files in ranges.',
  inputSchema: {
    type: 'object',
    properties: {
      path: { type: 'string', description: 'File path relative to the workspace root.' },
      startLine: { type: 'integer', minimum: 1, description: 'First line to return (1-based).' },
      endLine: { type: 'integer', minimum: 1, description: 'Last line to return (inclusive).' },
    },
    required: ['path'],
    additionalProperties: false,
  },
  async execute(args: { path: string; startLine?: number; endLine?: number }, ctx) {
    const target = await resolveWorkspacePath(ctx.workspaceDir, args.path, 'read');
    const read = await readWorkspaceText(target.absolute, target.relative);
    if (!read.ok) return read;
    const lines = read.output.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const total = lines.length;
    if (total === 0) return succeed(`(${target.relative} is empty)`);
    const start = args.startLine ?? 1;
    const end = Math.min(args.endLine ?? total, total);
    if (start > total) return fail(`${target.relative} has ${total} lines; startLine ${start} is past its end.`);
    if (end < start) return fail(`endLine (${args.endLine}) is before startLine (${start}).`);
    const text = lines.slice(start - 1, end).join('\n');
    const whole = start === 1 && end === total;
    if (whole && text.length <= MAX_TOOL_OUTPUT_CHARS) return succeed(text);
    const header = `[${target.relative}: lines ${start}-${end} of ${total}]\n`;
    return succeed(capOutput(header + text));
  },
};

/** A workspace file as UTF-8 text, refusing directories, binary files and files over the size cap. */
export async function readWorkspaceText(absolute: string, relative: string): Promise<{ ok: boolean; output: string }> {
  // open() rejects with a system error (its `code` says why).
  const handle = await open(absolute, constants.O_RDONLY | constants.O_NOFOLLOW).catch((e: unknown) => e as NodeJS.ErrnoException);
  if (handle instanceof Error) {
    if (handle.code === 'ENOENT') return fail(`${relative} does not exist.`);
    if (handle.code === 'ELOOP') return fail(`${relative} is a symbolic link.`);
    return fail(`${relative} cannot be read (${handle.code}).`);
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) return fail(`${relative} is a directory; use list_files to see what it holds.`);
    if (!info.isFile()) return fail(`${relative} is not a regular file.`);
    if (info.size > MAX_TOOL_FILE_BYTES)
      return fail(`${relative} is ${info.size} bytes, more than the ${MAX_TOOL_FILE_BYTES} bytes tools read.`);
    const bytes = await handle.readFile();
    if (bytes.subarray(0, 8192).includes(0)) return fail(`${relative} is a binary file.`);
    return succeed(bytes.toString('utf8'));
  } finally {
    await handle.close();
  }
}
