// Types for k8s/manifests.test.ts, which checks what the build copies next to the compiled server.
export const ASSETS: string[];
export function isTestPath(rel: string): boolean;
export function buildServer(out?: string): { out: string; copied: number };
