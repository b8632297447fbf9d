// Types for the benchmarks (bench/memory-startup.ts), which compile the server as `npm start` does.
export const COMPILED_DIR: string;
export function compileServer(out?: string): Promise<{ changed: number; ms: number }>;
