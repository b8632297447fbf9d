// Types for k8s/manifests.test.ts, which checks what the runtime tree keeps.
export const BUILD_ONLY: string[];
export function runtimePackages(lock: { packages: Record<string, any> }, roots: string[]): Set<string>;
