import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
// npm's own range logic (semver is in the tree through npm-published tools; no extra dependency).
const semver = require('semver') as { satisfies(version: string, range: string): boolean };

const root = new URL('../', import.meta.url);
const NODE_20 = '20.20.0';

/** Packages in the lock file whose `engines.node` excludes Node 20.20: what `npm ci` warns about. */
function packagesThatRefuse(version: string): string[] {
  const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8'));
  const names = new Set<string>();
  for (const [where, entry] of Object.entries<any>(lock.packages)) {
    const range = entry.engines?.node;
    if (typeof range === 'string' && !semver.satisfies(version, range)) names.add(where.replace(/^.*node_modules\//, ''));
  }
  return [...names].sort();
}

describe('Node versions', () => {
  it("the README names exactly the packages that declare a newer Node than 20.20 (npm ci's EBADENGINE warnings)", () => {
    const readme = readFileSync(new URL('README.md', root), 'utf8');
    // The bullet "**`npm ci` on Node 20 prints …**" up to the next bullet or blank line; its package
    // names are the code spans that are not commands, identifiers or files.
    const note = /\n- \*\*`npm ci` on Node 20 prints[\s\S]*?(?=\n- |\n\n)/.exec(readme)?.[0];
    expect(note, 'the README has the EBADENGINE note').toBeDefined();
    const notPackages = ['npm ci', 'mapMaybePromise', 'taskList', 'server/node-engines.test.ts', 'package-lock.json'];
    const named = [...note!.matchAll(/`([^`]+)`/g)].map((m) => m[1]).filter((n) => !notPackages.includes(n));
    expect([...new Set(named)].sort()).toEqual(packagesThatRefuse(NODE_20));
  });

  it('package.json still admits Node 20, and the image a newer LTS line', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
    expect(semver.satisfies(NODE_20, pkg.engines.node)).toBe(true);
    expect(semver.satisfies('24.0.0', pkg.engines.node)).toBe(true);
  });
});
