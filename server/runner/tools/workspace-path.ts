import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';

export class PathRefused extends Error {}

export interface WorkspacePath {
  /** Absolute host path, inside the workspace. */
  absolute: string;
  /** The path relative to the workspace root, `.` for the root itself. */
  relative: string;
}

/**
 * Resolves a path a model gave against the workspace, or throws PathRefused with a sentence the
 * model can act on. Refused: absolute paths, `..`, NUL, anything under `.git`, and any path whose
 * existing part goes through a symlink that leaves the workspace. For writing, the file itself
 * must not be a symlink (even one pointing inside), so a write never follows a link.
 */
export async function resolveWorkspacePath(workspaceDir: string, input: unknown, mode: 'read' | 'write'): Promise<WorkspacePath> {
  if (typeof input !== 'string') throw new PathRefused('The path must be a string.');
  if (input.includes('\0')) throw new PathRefused('The path contains a NUL character.');
  if (input.length > 4096) throw new PathRefused('The path is longer than 4096 characters.');
  const given = input.trim() === '' ? '.' : input;
  if (path.posix.isAbsolute(given) || given.startsWith('~')) {
    throw new PathRefused(`The path ${JSON.stringify(input)} is absolute; give it relative to the workspace root (e.g. "src/index.ts").`);
  }
  const segments = given.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new PathRefused(`The path ${JSON.stringify(input)} contains "..": paths stay inside the workspace.`);
  if (segments.some((s) => s.toLowerCase() === '.git'))
    throw new PathRefused('The .git directory is managed by AutoDev and cannot be accessed with tools.');

  const root = await realpath(workspaceDir);
  let current = root;
  for (const [i, segment] of segments.entries()) {
    const next = path.join(current, segment);
    const stat = await lstat(next).catch(() => null);
    if (!stat) {
      // The rest does not exist yet: nothing further can be a link.
      const absolute = path.join(next, ...segments.slice(i + 1));
      return { absolute, relative: path.relative(root, absolute) };
    }
    if (stat.isSymbolicLink()) {
      const last = i === segments.length - 1;
      if (last && mode === 'write') throw new PathRefused(`${segments.join('/')} is a symbolic link; tools do not write through links.`);
      const target = await realpath(next).catch(() => null);
      if (!target || !inside(root, target)) {
        throw new PathRefused(`${segments.slice(0, i + 1).join('/')} is a symbolic link that leads outside the workspace.`);
      }
      if (
        path
          .relative(root, target)
          .split(path.sep)
          .some((s) => s.toLowerCase() === '.git')
      ) {
        throw new PathRefused(`${segments.slice(0, i + 1).join('/')} is a symbolic link into .git, which tools cannot access.`);
      }
      current = target;
    } else {
      current = next;
    }
  }
  return { absolute: current, relative: path.relative(root, current) || '.' };
}

function inside(root: string, target: string): boolean {
  return target === root || target.startsWith(root + path.sep);
}
