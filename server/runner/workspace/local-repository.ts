// A job names its repository in its input, so a local path (or file:// URL) is a tenant asking to
// read the worker's disk: other attempts' workspaces, the data directory. Local repositories are
// therefore allowed only inside the directories the operator lists (AUTODEV_REPOSITORY_ROOTS).
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A URL git would fetch over the network (https, ssh, git, scp-like user@host:path); anything else is local. */
function isRemote(repository: string): boolean {
  if (/^file:/i.test(repository)) return false;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repository)) return true;
  // git's scp-like syntax: a colon before any slash.
  const colon = repository.indexOf(':');
  return colon > 0 && !repository.slice(0, colon).includes('/');
}

/** A local repository as an absolute path, or why it is not one (null: a remote, not ours to judge). */
function localPath(repository: string): { local: string } | { problem: string } | null {
  if (isRemote(repository)) return null;
  let local: string;
  try {
    local = /^file:/i.test(repository) ? fileURLToPath(repository) : repository;
  } catch {
    return { problem: 'The repository is not a valid file:// URL.' };
  }
  if (!path.isAbsolute(local)) return { problem: 'A local repository must be given as an absolute path.' };
  return { local };
}

// The root itself or a path under "root/" (a directory named "..cache" inside the root is inside).
const isInside = (dir: string, root: string) => dir === root || dir.startsWith(root.endsWith(path.sep) ? root : root + path.sep);

function outsideRoots(local: string, roots: readonly string[]): string {
  return roots.length
    ? `The local repository ${local} is outside the directories this server clones from (AUTODEV_REPOSITORY_ROOTS).`
    : 'This server clones no local repositories (the operator lists the allowed directories in AUTODEV_REPOSITORY_ROOTS).';
}

/**
 * The same rule on the path as written, without touching the disk: what `createJob` can decide up
 * front (the API may not share the worker's filesystem; the runner checks again after realpath).
 */
export function localRepositoryOutsideRoots(repository: string, roots: readonly string[]): string | null {
  const found = localPath(repository);
  if (!found || 'problem' in found) return found?.problem ?? null;
  return roots.some((root) => isInside(path.resolve(found.local), path.resolve(root))) ? null : outsideRoots(found.local, roots);
}

/** Why this repository may not be cloned here, or null when it may. */
export function localRepositoryProblem(repository: string, roots: readonly string[]): string | null {
  const found = localPath(repository);
  if (!found || 'problem' in found) return found?.problem ?? null;
  let real: string;
  try {
    real = realpathSync(found.local);
  } catch {
    return `The local repository ${found.local} does not exist.`;
  }
  const inside = roots.some((root) => {
    try {
      return isInside(real, realpathSync(root));
    } catch {
      return false;
    }
  });
  return inside ? null : outsideRoots(found.local, roots);
}
