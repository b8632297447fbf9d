import { fail, succeed, type ToolDefinition } from './tool.ts';
import { readWorkspaceText } from './read-file.ts';
import { writeWorkspaceFile } from './write-file.ts';
import { resolveWorkspacePath } from './workspace-path.ts';

export const editFileTool: ToolDefinition = {
  name: 'edit_file',
  description:
    'Replace one exact piece of text in a workspace file. oldText must occur exactly once in the file (whitespace and line breaks included); include surrounding lines to make it unique.',
  inputSchema: {
    type: 'object',
    properties: {
      path: { type: 'string', description: 'File path relative to the workspace root.' },
      oldText: { type: 'string', minLength: 1, description: 'The exact text to replace; must match exactly one place.' },
      newText: { type: 'string', description: 'The text to put in its place.' },
    },
    required: ['path', 'oldText', 'newText'],
    additionalProperties: false,
  },
  async execute(args: { path: string; oldText: string; newText: string }, ctx) {
    const target = await resolveWorkspacePath(ctx.workspaceDir, args.path, 'write');
    const read = await readWorkspaceText(target.absolute, target.relative);
    if (!read.ok) return read;
    const text = read.output;
    const first = text.indexOf(args.oldText);
    if (first === -1)
      return fail(`oldText was not found in ${target.relative} (0 matches). Read the file and copy the text exactly, whitespace included.`);
    const matches = countOccurrences(text, args.oldText);
    if (matches > 1)
      return fail(
        `oldText matches ${matches} places in ${target.relative}; include more surrounding lines so that it matches exactly one.`,
      );
    const updated = text.slice(0, first) + args.newText + text.slice(first + args.oldText.length);
    const problem = await writeWorkspaceFile(target.absolute, updated);
    if (problem) return fail(`${target.relative} cannot be written: ${problem}.`);
    const line = text.slice(0, first).split('\n').length;
    return succeed(`Edited ${target.relative} at line ${line}.`);
  },
};

/** Occurrences of `needle`, overlapping ones included: "aa" is in "aaa" twice, so it is not unique. */
function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + 1)) count++;
  return count;
}
