import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cycles, importGraph, importSpecifiers, moduleGraph, sourceFiles } from './test/import-graph.ts';

const root = fileURLToPath(new URL('.', import.meta.url)).replace(/\/$/, '');
const files = importGraph(root);

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

  it('only the GraphQL edge (schema/, http/, realtime/) knows GraphQL: domain errors are plain errors', () => {
    const edge = /^(schema|http|realtime|test)\//;
    const graphqlPackage = /^(graphql|graphql-yoga|graphql-ws|graphql-sse|@pothos\/.*|@envelop\/.*|@escape\.tech\/graphql-armor)$/;
    const outside = sourceFiles(root)
      .map((file) => path.relative(root, file))
      .filter((file) => !edge.test(file))
      .flatMap((file) =>
        importSpecifiers(path.join(root, file))
          .filter((s) => graphqlPackage.test(s))
          .map((s) => `${file} imports ${s}`),
      );
    expect(outside).toEqual([]);
  });
});
