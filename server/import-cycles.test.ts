import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cycles, importGraph, moduleGraph } from './test/import-graph.ts';

const files = importGraph(fileURLToPath(new URL('.', import.meta.url)).replace(/\/$/, ''));

describe('imports point one way', () => {
  it('reads the whole tree (the graph is not empty by mistake)', () => {
    expect(files.size).toBeGreaterThan(100);
    expect(files.get('engine/run-attempt.ts')).toContain('engine/start-attempt.ts');
  });

  it('no file imports itself back, through any chain (type-only and dynamic imports included)', () => {
    expect(cycles(files).map((c) => c.join(' → '))).toEqual([]);
  });

  it('no module (a directory of server/, or a file directly in it) imports itself back', () => {
    expect(cycles(moduleGraph(files)).map((c) => c.join(' → '))).toEqual([]);
  });
});
