import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { cloneWorkspace } from '../workspace/clone-workspace.ts';
import { buildTools, MAX_TOOL_OUTPUT_CHARS, TOOL_NAMES, type ToolContext } from './index.ts';
import { MAX_TOOL_FILE_BYTES } from './tool.ts';

const root = mkdtempSync(path.join(tmpdir(), 'autodev-tools-test-'));
const outside = path.join(root, 'outside');
mkdirSync(outside);
writeFileSync(path.join(outside, 'secret.txt'), 'outside-secret\n');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const tools = Object.fromEntries(buildTools(TOOL_NAMES).map((t) => [t.name, t]));
let ctx: ToolContext;
let ws = '';
let n = 0;
const call = (tool: string, args: unknown) => tools[tool].execute(args, ctx);

beforeEach(async () => {
  ws = path.join(root, `ws-${++n}`);
  await cloneWorkspace({ dir: ws });
  mkdirSync(path.join(ws, 'src'));
  writeFileSync(path.join(ws, 'src', 'math.js'), 'export function add(a, b) {\n  return a - b;\n}\n');
  writeFileSync(path.join(ws, 'README.md'), '# Demo\n\nadd numbers\n');
  writeFileSync(path.join(ws, '.gitignore'), 'node_modules/\n');
  mkdirSync(path.join(ws, 'node_modules', 'dep'), { recursive: true });
  writeFileSync(path.join(ws, 'node_modules', 'dep', 'index.js'), 'ignored\n');
  ctx = { workspaceDir: ws, sandbox: { timeoutMs: 20_000, maxOutputBytes: 64 * 1024, network: false } };
});

describe('buildTools', () => {
  it('builds exactly the granted tools, each with a JSON Schema object, and refuses an unknown name', () => {
    expect(TOOL_NAMES).toEqual(['list_files', 'read_file', 'write_file', 'edit_file', 'search', 'run_command']);
    const granted = buildTools(['read_file', 'search']);
    expect(granted.map((t) => t.name)).toEqual(['read_file', 'search']);
    for (const t of buildTools(TOOL_NAMES)) {
      expect(t.inputSchema).toMatchObject({ type: 'object', additionalProperties: false });
      expect(t.description.length).toBeGreaterThan(20);
    }
    expect(() => buildTools(['read_file', 'rm_rf'])).toThrow(/Unknown tool rm_rf; the tools are list_files, read_file/);
  });

  it('refuses invalid arguments with a sentence naming the problem', async () => {
    expect(await call('read_file', {})).toEqual({
      ok: false,
      output: expect.stringMatching(/read_file.*must have required property 'path'/),
    });
    expect(await call('read_file', { path: 'README.md', startLine: 0 })).toEqual({
      ok: false,
      output: expect.stringMatching(/`startLine` must be >= 1/),
    });
    expect(await call('write_file', { path: 'a', content: 'x', mode: '777' })).toEqual({
      ok: false,
      output: expect.stringMatching(/unknown argument `mode`/),
    });
    expect(await call('edit_file', { path: 'a', oldText: 1, newText: '' })).toMatchObject({ ok: false });
  });
});

describe('list_files', () => {
  it('lists tracked and new files, not ignored ones, and a directory on its own', async () => {
    writeFileSync(path.join(ws, 'new.txt'), 'new\n');
    const all = await call('list_files', {});
    expect(all.ok).toBe(true);
    expect(all.output.split('\n').sort()).toEqual(['.gitignore', 'README.md', 'new.txt', 'src/math.js']);
    expect(await call('list_files', { path: 'src' })).toEqual({ ok: true, output: 'src/math.js' });
    expect(await call('list_files', { path: 'nope' })).toEqual({ ok: false, output: 'nope does not exist.' });
  });
});

describe('read_file', () => {
  it('reads a whole file or a range of lines, and says what it cannot read', async () => {
    expect(await call('read_file', { path: 'src/math.js' })).toEqual({
      ok: true,
      output: 'export function add(a, b) {\n  return a - b;\n}',
    });
    expect(await call('read_file', { path: './src//math.js', startLine: 2, endLine: 2 })).toEqual({
      ok: true,
      output: '[src/math.js: lines 2-2 of 3]\n  return a - b;',
    });
    expect((await call('read_file', { path: 'src/math.js', startLine: 9 })).output).toMatch(/has 3 lines/);
    expect((await call('read_file', { path: 'src' })).output).toMatch(/is a directory/);
    expect((await call('read_file', { path: 'missing.js' })).output).toBe('missing.js does not exist.');
    writeFileSync(path.join(ws, 'blob.bin'), Buffer.from([1, 0, 2]));
    expect((await call('read_file', { path: 'blob.bin' })).output).toBe('blob.bin is a binary file.');
  });

  it('cuts a long file at the output cap and says how to read the rest', async () => {
    writeFileSync(path.join(ws, 'long.txt'), Array.from({ length: 5000 }, (_, i) => `line ${i + 1} ${'x'.repeat(20)}`).join('\n'));
    const r = await call('read_file', { path: 'long.txt' });
    expect(r.ok).toBe(true);
    expect(r.output.length).toBeLessThanOrEqual(MAX_TOOL_OUTPUT_CHARS);
    expect(r.output).toMatch(/^\[long.txt: lines 1-5000 of 5000\]/);
    expect(r.output).toMatch(/\nline \d+ x+\n\[output cut: \d+ more characters not shown\]$/);
  });
});

describe('write_file', () => {
  it('creates files (and their directories) and replaces them', async () => {
    expect(await call('write_file', { path: 'src/deep/new.js', content: 'export const x = 1;\n' })).toEqual({
      ok: true,
      output: 'Created src/deep/new.js (20 bytes).',
    });
    expect(readFileSync(path.join(ws, 'src/deep/new.js'), 'utf8')).toBe('export const x = 1;\n');
    expect(await call('write_file', { path: 'src/deep/new.js', content: 'é' })).toEqual({
      ok: true,
      output: 'Replaced src/deep/new.js (2 bytes).',
    });
    expect((await call('write_file', { path: 'src', content: 'x' })).output).toBe('src is a directory.');
  });
});

describe('edit_file', () => {
  it('replaces an exact, unique match', async () => {
    expect(await call('edit_file', { path: 'src/math.js', oldText: 'return a - b;', newText: 'return a + b;' })).toEqual({
      ok: true,
      output: 'Edited src/math.js at line 2.',
    });
    expect(readFileSync(path.join(ws, 'src/math.js'), 'utf8')).toBe('export function add(a, b) {\n  return a + b;\n}\n');
  });

  it('refuses an edit that would make the file larger than write_file allows, and leaves the file alone', async () => {
    const before = readFileSync(path.join(ws, 'src/math.js'), 'utf8');
    const res = await call('edit_file', { path: 'src/math.js', oldText: 'return a', newText: 'x'.repeat(MAX_TOOL_FILE_BYTES) });
    expect(res).toMatchObject({ ok: false, output: expect.stringContaining(`more than the ${MAX_TOOL_FILE_BYTES} bytes`) });
    expect(readFileSync(path.join(ws, 'src/math.js'), 'utf8')).toBe(before);
  });

  it('refuses 0 or several matches with a clear error and leaves the file alone', async () => {
    const before = readFileSync(path.join(ws, 'src/math.js'), 'utf8');
    expect(await call('edit_file', { path: 'src/math.js', oldText: 'return a * b;', newText: 'x' })).toEqual({
      ok: false,
      output: 'oldText was not found in src/math.js (0 matches). Read the file and copy the text exactly, whitespace included.',
    });
    expect(await call('edit_file', { path: 'src/math.js', oldText: 'a', newText: 'x' })).toEqual({
      ok: false,
      output: expect.stringMatching(/^oldText matches 3 places in src\/math.js; include more surrounding lines/),
    });
    writeFileSync(path.join(ws, 'aaa.txt'), 'aaa');
    expect((await call('edit_file', { path: 'aaa.txt', oldText: 'aa', newText: 'b' })).output).toMatch(/matches 2 places/);
    expect(readFileSync(path.join(ws, 'src/math.js'), 'utf8')).toBe(before);
  });
});

describe('search', () => {
  it('finds matching lines with file and line number, in tracked and new files, not ignored ones', async () => {
    writeFileSync(path.join(ws, 'notes.md'), 'add more tests\n');
    const r = await call('search', { pattern: 'add' });
    expect(r.ok).toBe(true);
    expect(r.output.split('\n').sort()).toEqual([
      'README.md:3:add numbers',
      'notes.md:1:add more tests',
      'src/math.js:1:export function add(a, b) {',
    ]);
    expect((await call('search', { pattern: 'a[+-]b|a - b', path: 'src' })).output).toBe('src/math.js:2:  return a - b;');
    expect(await call('search', { pattern: 'nothing-like-this' })).toEqual({ ok: true, output: 'No matches.' });
    expect(await call('search', { pattern: 'ignored' })).toEqual({ ok: true, output: 'No matches.' });
  });

  it('searches an invalid regular expression as plain text, and bounds its output', async () => {
    expect((await call('search', { pattern: 'add(a' })).output).toMatch(
      /searched as plain text\]\nsrc\/math.js:1:export function add\(a, b\)/,
    );
    writeFileSync(path.join(ws, 'a-many.txt'), Array.from({ length: 20_000 }, (_, i) => `match ${i} ${'y'.repeat(30)}`).join('\n'));
    for (let i = 0; i < 40; i++) writeFileSync(path.join(ws, `m${i}.txt`), 'match\n'.repeat(100));
    const r = await call('search', { pattern: 'match' });
    expect(r.ok).toBe(true);
    expect(r.output.length).toBeLessThanOrEqual(MAX_TOOL_OUTPUT_CHARS);
    expect(r.output.split('\n').filter((l) => l.startsWith('a-many.txt:')).length).toBe(50);
  });
});

describe('run_command', () => {
  it('runs in the sandboxed workspace and returns the exit code and the output', async () => {
    const ok = await call('run_command', { command: 'cat README.md | head -1; echo done > out.txt' });
    expect(ok).toEqual({ ok: true, output: 'Exit code 0.\n# Demo\n' });
    expect(readFileSync(path.join(ws, 'out.txt'), 'utf8')).toBe('done\n');
    expect(await call('run_command', { command: 'echo failing >&2; exit 2' })).toEqual({ ok: false, output: 'Exit code 2.\nfailing\n' });
    expect((await call('run_command', { command: `cat ${outside}/secret.txt` })).output).not.toContain('outside-secret');
  });

  it('stops at timeoutSeconds, never later than the sandbox allows', async () => {
    const started = Date.now();
    expect(await call('run_command', { command: 'sleep 30', timeoutSeconds: 1 })).toEqual({
      ok: false,
      output: 'Killed after the time limit of 1 s.\n(no output)',
    });
    ctx.sandbox.timeoutMs = 1000;
    expect((await call('run_command', { command: 'sleep 30', timeoutSeconds: 600 })).output).toMatch(/^Killed after the time limit of 1 s/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('keeps the tail of a long output and says how much was cut', async () => {
    const r = await call('run_command', { command: 'seq 1 100000' });
    expect(r.ok).toBe(true);
    expect(r.output.length).toBeLessThanOrEqual(MAX_TOOL_OUTPUT_CHARS);
    expect(r.output).toMatch(/^Exit code 0\.\n\[output cut: the first \d+ of 588895 bytes are not shown\]\n\d+\n/);
    const first = Number(r.output.split('\n')[2]);
    const cut = Number(/the first (\d+) of/.exec(r.output)![1]);
    expect(cut).toBe(Array.from({ length: first - 1 }, (_, i) => `${i + 1}\n`).join('').length); // a whole line: the cut is exact
    expect(r.output.endsWith('99999\n100000\n')).toBe(true);
  });
});

describe('paths stay inside the workspace', () => {
  it('refuses .., absolute paths and .git for every path tool', async () => {
    for (const [tool, extra] of [
      ['read_file', {}],
      ['write_file', { content: 'x' }],
      ['edit_file', { oldText: 'a', newText: 'b' }],
      ['list_files', {}],
      ['search', { pattern: 'x' }],
    ] as const) {
      expect(await call(tool, { path: '../outside/secret.txt', ...extra }), tool).toEqual({
        ok: false,
        output: '"../outside/secret.txt" contains "..": paths stay inside the workspace.'.replace(/^/, 'The path '),
      });
      expect((await call(tool, { path: `${outside}/secret.txt`, ...extra })).output, tool).toMatch(
        /is absolute; give it relative to the workspace root/,
      );
      expect((await call(tool, { path: 'src/../../outside', ...extra })).ok, tool).toBe(false);
      expect((await call(tool, { path: '.git/config', ...extra })).output, tool).toMatch(/\.git directory is managed by AutoDev/);
    }
    expect(existsSync(path.join(outside, 'x'))).toBe(false);
  });

  it('refuses a symlink that leaves the workspace, also as a parent directory, and never writes through a link', async () => {
    symlinkSync(path.join(outside, 'secret.txt'), path.join(ws, 'link-out.txt'));
    symlinkSync(outside, path.join(ws, 'dir-out'));
    symlinkSync('..', path.join(ws, 'src', 'up'));
    symlinkSync('math.js', path.join(ws, 'src', 'link-in.js'));
    symlinkSync('.git', path.join(ws, 'git-link'));
    expect(await call('read_file', { path: 'link-out.txt' })).toEqual({
      ok: false,
      output: 'link-out.txt is a symbolic link that leads outside the workspace.',
    });
    expect(await call('read_file', { path: 'dir-out/secret.txt' })).toEqual({
      ok: false,
      output: 'dir-out is a symbolic link that leads outside the workspace.',
    });
    expect((await call('write_file', { path: 'dir-out/planted.txt', content: 'x' })).ok).toBe(false);
    expect((await call('write_file', { path: 'link-out.txt', content: 'overwritten' })).output).toBe(
      'link-out.txt is a symbolic link; tools do not write through links.',
    );
    expect((await call('edit_file', { path: 'link-out.txt', oldText: 'outside', newText: 'x' })).ok).toBe(false);
    expect((await call('list_files', { path: 'dir-out' })).ok).toBe(false);
    expect((await call('search', { pattern: 'secret', path: 'dir-out' })).ok).toBe(false);
    expect(await call('search', { pattern: 'outside-secret' })).toEqual({ ok: true, output: 'No matches.' }); // git grep does not follow links
    expect((await call('list_files', {})).output).not.toMatch(/secret\.txt/);
    expect((await call('read_file', { path: 'git-link/config' })).output).toMatch(/symbolic link into .git/);
    // src/up -> .. stays inside: it resolves to the workspace root
    expect((await call('read_file', { path: 'src/up/README.md' })).output).toBe('# Demo\n\nadd numbers');
    // a link inside the workspace can be read, but not written through
    expect((await call('read_file', { path: 'src/link-in.js' })).ok).toBe(true);
    expect((await call('write_file', { path: 'src/link-in.js', content: 'x' })).ok).toBe(false);
    expect(readFileSync(path.join(outside, 'secret.txt'), 'utf8')).toBe('outside-secret\n');
    expect(lstatSync(path.join(ws, 'link-out.txt')).isSymbolicLink()).toBe(true);
    expect(execFileSync('ls', [outside]).toString()).toBe('secret.txt\n');
  });
});
