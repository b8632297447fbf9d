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

/**
 * The same rule on the path as written, without touching the disk: what `createJob` can decide up
 * front (the API may not share the worker's filesystem; the runner checks again after realpath).
 */
export function localRepositoryOutsideRoots(repository: string, roots: readonly string[]): string | null {
  if (isRemote(repository)) return null;
  let local: string;
  try {
    local = /^file:/i.test(repository) ? fileURLToPath(repository) : repository;
  } catch {
    return 'The repository is not a valid file:// URL.';
  }
  if (!path.isAbsolute(local)) return 'A local repository must be given as an absolute path.';
  const inside = roots.some((root) => {
    const rel = path.relative(path.resolve(root), path.resolve(local));
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  });
  if (inside) return null;
  return roots.length
    ? `The local repository ${local} is outside the directories this server clones from (AUTODEV_REPOSITORY_ROOTS).`
    : 'This server clones no local repositories (the operator lists the allowed directories in AUTODEV_REPOSITORY_ROOTS).';
}

/** Why this repository may not be cloned here, or null when it may. */
export function localRepositoryProblem(repository: string, roots: readonly string[]): string | null {
  if (isRemote(repository)) return null;
  let local: string;
  try {
    local = /^file:/i.test(repository) ? fileURLToPath(repository) : repository;
  } catch {
    return 'The repository is not a valid file:// URL.';
  }
  if (!path.isAbsolute(local)) return 'A local repository must be given as an absolute path.';
  let real: string;
  try {
    real = realpathSync(local);
  } catch {
    return `The local repository ${local} does not exist.`;
  }
  const inside = roots.some((root) => {
    let r: string;
    try {
      r = realpathSync(root);
    } catch {
      return false;
    }
    const rel = path.relative(r, real);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  });
  if (inside) return null;
  return roots.length
    ? `The local repository ${local} is outside the directories this server clones from (AUTODEV_REPOSITORY_ROOTS).`
    : 'This server clones no local repositories (the operator lists the allowed directories in AUTODEV_REPOSITORY_ROOTS).';
}
