// Types for the tests (server/startup-imports.test.ts), which bundle the server as `npm start` does.
export const BUNDLED_PACKAGES: string[];
export function freshBundle(compiled?: string): string | null;
export function bundleServer(compiled?: string): Promise<{ entry: string; built: boolean; ms: number }>;
