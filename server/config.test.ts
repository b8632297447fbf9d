import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

/** The variables the README's configuration table lists (each backticked name in a row's first cell). */
function documentedVariables(): string[] {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Configuration\n'), readme.indexOf('\n## ', readme.indexOf('\n## Configuration\n') + 1));
  const names = new Set<string>();
  for (const row of section.split('\n').filter((l) => l.startsWith('| `'))) {
    for (const [, name] of row.split(' | ')[0].matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(name);
  }
  return [...names];
}

/** Where an empty value means something of its own (the README says what: an S3 prefix of nothing is the bucket's root). */
const EMPTY_MEANS_SOMETHING = new Set(['AUTODEV_S3_PREFIX']);

describe('configuration', () => {
  const variables = documentedVariables();

  it('reads every variable of the README table', () => {
    // The table is the list this test walks: it must be there to walk.
    expect(variables.length).toBeGreaterThan(50);
    expect(variables).toEqual(expect.arrayContaining(['PORT', 'AUTODEV_DATA_DIR', 'LOG_LEVEL', 'AUTODEV_ROLE', 'HOST']));
  });

  it('takes a variable set to nothing as unset, for every documented variable', () => {
    const unset = loadConfig({});
    for (const name of variables) {
      if (EMPTY_MEANS_SOMETHING.has(name)) continue;
      // A name per assertion, so that a failure says which variable.
      expect({ name, config: loadConfig({ [name]: '' }) }).toEqual({ name, config: unset });
    }
  });

  it('keeps the data directory out of the working directory when AUTODEV_DATA_DIR is empty', () => {
    const config = loadConfig({ AUTODEV_DATA_DIR: '' });
    expect(config.dataDir).toBe(path.resolve('.data'));
    expect(config.sampleRepository).toBe(path.resolve('.data', 'sample-repo'));
  });

  it('takes a value a variable does not, for every documented variable, or refuses it naming the variable', () => {
    for (const name of variables) {
      for (const value of ['x?%', '-1', '{', 'verbose']) {
        let refusal = '';
        try {
          loadConfig({ [name]: value });
        } catch (err) {
          refusal = (err as Error).message;
        }
        // No refusal from deeper down (JSON.parse's, say) that leaves the operator guessing which variable.
        if (refusal) expect({ name, value, refusal }).toEqual({ name, value, refusal: expect.stringMatching(new RegExp(`^${name}\\b`)) });
      }
    }
  });

  it('refuses a log level or role it does not know, naming the variable and what it accepts', () => {
    expect(() => loadConfig({ LOG_LEVEL: 'verbose' })).toThrow(
      'LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent, got "verbose"',
    );
    expect(() => loadConfig({ AUTODEV_ROLE: 'scheduler' })).toThrow('AUTODEV_ROLE must be one of api, worker, all, got "scheduler"');
    expect(loadConfig({ LOG_LEVEL: 'silent' }).logLevel).toBe('silent');
  });
});
