import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { localRepositoryOutsideRoots, localRepositoryProblem } from './local-repository.ts';

// root/ holds sub/, a link `in` to sub and a link `out` to a sibling directory outside the root.
const base = mkdtempSync(path.join(tmpdir(), 'autodev-roots-'));
const root = path.join(base, 'root');
const outside = path.join(base, 'outside');
mkdirSync(path.join(root, 'sub', 'deeper'), { recursive: true });
mkdirSync(path.join(root, '..cache')); // inside the root, though its name starts with ".."

mkdirSync(outside);
symlinkSync(path.join(root, 'sub'), path.join(root, 'in'));
symlinkSync(outside, path.join(root, 'out'));
symlinkSync(path.join(root, 'out'), path.join(root, 'sub', 'back-out'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

// Independent of the module's arithmetic: the real path is the root or lies under "root/".
const within = (p: string) => {
  const real = realpathSync(p);
  return real === realpathSync(root) || real.startsWith(realpathSync(root) + path.sep);
};

describe('local repositories are cloned only inside the operator roots', () => {
  it('never accepts a path that resolves outside the root, whatever its segments and links (fast-check, 500 paths, as paths and file:// URLs)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('sub', 'deeper', '..', '.', '..cache', 'in', 'out', 'back-out', 'missing'), { maxLength: 6 }),
        fc.boolean(),
        (segments, asUrl) => {
          const candidate = path.join(root, ...segments);
          const given = asUrl ? pathToFileURL(candidate).href : candidate;
          const problem = localRepositoryProblem(given, [root]);
          let exists = true;
          try {
            realpathSync(candidate);
          } catch {
            exists = false;
          }
          if (problem === null) expect(exists && within(candidate)).toBe(true);
          else expect(exists && within(candidate)).toBe(false);
          // The up-front check (no disk) never accepts what is lexically outside.
          if (localRepositoryOutsideRoots(given, [root]) === null)
            expect(path.resolve(candidate) === root || path.resolve(candidate).startsWith(root + path.sep)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('leaves remote URLs alone and refuses relative paths and everything when no root is configured', () => {
    for (const remote of ['https://github.com/a/b.git', 'ssh://git@host/x.git', 'git@github.com:a/b.git', 'git://host/x']) {
      expect(localRepositoryProblem(remote, [])).toBeNull();
      expect(localRepositoryOutsideRoots(remote, [])).toBeNull();
    }
    expect(localRepositoryProblem('relative/repo', [root])).toContain('absolute path');
    expect(localRepositoryProblem(path.join(root, 'sub'), [])).toContain('clones no local repositories');
  });
});
