// Types for k8s/manifests.test.ts, which checks what the runtime tree keeps.
export const BUILD_ONLY: string[];
/** The fields of a package-lock.json `packages` entry that the walk reads. */
export interface LockEntry {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}
export function runtimePackages(lock: { packages: Record<string, LockEntry> }, roots: string[]): Set<string>;
