import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTools } from './index.ts';
import { PathRefused, resolveWorkspacePath } from './workspace-path.ts';

// root/outside (must stay untouched) and root/ws, a workspace full of links in every direction.
const root = mkdtempSync(path.join(tmpdir(), 'autodev-paths-test-'));
const outside = path.join(root, 'outside');
const ws = path.join(root, 'ws');
mkdirSync(outside);
writeFileSync(path.join(outside, 'secret.txt'), 'outside');
mkdirSync(path.join(ws, 'src', 'deep'), { recursive: true });
mkdirSync(path.join(ws, '.git'));
writeFileSync(path.join(ws, 'src', 'a.txt'), 'a');
symlinkSync(outside, path.join(ws, 'link-out'));
symlinkSync(path.join(outside, 'secret.txt'), path.join(ws, 'file-out'));
symlinkSync('..', path.join(ws, 'up')); // leaves: the workspace's parent
symlinkSync('..', path.join(ws, 'src', 'up')); // stays: the workspace root
symlinkSync('../../link-out', path.join(ws, 'src', 'deep', 'chain')); // a link to a link that leaves
symlinkSync('/etc', path.join(ws, 'abs-link'));
symlinkSync('loop', path.join(ws, 'loop'));
symlinkSync('.git', path.join(ws, 'git-link'));
symlinkSync('src', path.join(ws, 'src-link'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const realWs = realpathSync(ws);
const segment = fc.constantFrom(
  'src',
  'deep',
  'a.txt',
  'new',
  'x y',
  '..',
  '.',
  '',
  'link-out',
  'file-out',
  'up',
  'chain',
  'abs-link',
  'loop',
  'git-link',
  'src-link',
  '.git',
  '.GIT',
  'secret.txt',
  '~',
  '%2e%2e',
  '..\\',
  '\\..',
  '...',
  'é',
  '\0',
);
const pathString = fc.oneof(
  fc.tuple(fc.boolean(), fc.array(segment, { maxLength: 7 })).map(([abs, parts]) => (abs ? '/' : '') + parts.join('/')),
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
);

/** The real location a resolved path would reach: its deepest existing ancestor, links followed. */
function reach(absolute: string): string {
  let p = absolute;
  while (!existsSync(p)) p = path.dirname(p);
  return realpathSync(p);
}
const inside = (p: string) => p === realWs || p.startsWith(realWs + path.sep);

describe('resolveWorkspacePath', () => {
  it('never resolves a generated path string outside the workspace or into .git (property)', async () => {
    await fc.assert(
      fc.asyncProperty(pathString, fc.constantFrom('read' as const, 'write' as const), async (input, mode) => {
        let resolved;
        try {
          resolved = await resolveWorkspacePath(ws, input, mode);
        } catch (err) {
          expect(err).toBeInstanceOf(PathRefused); // refusals only, never a crash
          return;
        }
        expect(resolved.absolute.startsWith(realWs)).toBe(true);
        expect(inside(reach(resolved.absolute))).toBe(true);
        expect(path.relative(realWs, reach(resolved.absolute)).split(path.sep)).not.toContain('.git');
      }),
      { numRuns: 500 },
    );
  });

  it('write_file with generated paths never creates or changes anything outside the workspace (property)', async () => {
    const [writeFile] = buildTools(['write_file']);
    const ctx = { workspaceDir: ws, sandbox: { timeoutMs: 1000, maxOutputBytes: 1000, network: false } };
    await fc.assert(
      fc.asyncProperty(pathString, async (input) => {
        const r = await writeFile.execute({ path: input, content: 'planted' }, ctx);
        expect(typeof r.output).toBe('string');
      }),
      { numRuns: 300 },
    );
    expect(readdirSync(outside)).toEqual(['secret.txt']);
    expect(readdirSync(path.join(ws, '.git'))).toEqual([]);
    expect(readdirSync(root).sort()).toEqual(['outside', 'ws']);
  });

  it('accepts ordinary relative paths, through links that stay inside', async () => {
    expect(await resolveWorkspacePath(ws, 'src/a.txt', 'read')).toEqual({
      absolute: path.join(realWs, 'src/a.txt'),
      relative: 'src/a.txt',
    });
    expect(await resolveWorkspacePath(ws, './src//new/file.ts', 'write')).toEqual({
      absolute: path.join(realWs, 'src/new/file.ts'),
      relative: 'src/new/file.ts',
    });
    expect((await resolveWorkspacePath(ws, 'src/up/src-link/a.txt', 'read')).relative).toBe('src/a.txt');
    expect((await resolveWorkspacePath(ws, '', 'read')).relative).toBe('.');
  });
});
