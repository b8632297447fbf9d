import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { permittedRunnerEnv, runnerEnvAllowed, SAFE_RUNNER_ENV } from './runner-env.ts';

const NAME = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,20}$/);

describe('the runner environment allow-list', () => {
  it('permits a name only when it is in the safe set or the operator’s list, and never a worker credential', () => {
    fc.assert(
      fc.property(
        fc.array(NAME, { maxLength: 8 }),
        fc.array(
          fc.oneof(NAME, fc.constantFrom(...SAFE_RUNNER_ENV, 'DATABASE_URL', 'AWS_SECRET_ACCESS_KEY', 'AUTODEV_ADMIN_TOKEN', 'PGPASSWORD')),
          { maxLength: 8 },
        ),
        (operator, asked) => {
          const allowedByOperator = operator.filter((n) => !/^(DATABASE_URL|REDIS_URL|AUTODEV_.*|AWS_.*|KUBECONFIG|OTEL_.*|PG.*)$/.test(n));
          for (const name of permittedRunnerEnv(asked, allowedByOperator)) {
            expect(SAFE_RUNNER_ENV.includes(name) || allowedByOperator.includes(name)).toBe(true);
            expect(name).not.toMatch(/^(DATABASE_URL|REDIS_URL|AUTODEV_|AWS_|KUBECONFIG|OTEL_|PG)/);
          }
        },
      ),
      { numRuns: 300, seed: 16 },
    );
    expect(runnerEnvAllowed('GITHUB_TOKEN', [])).toBe(false);
    expect(runnerEnvAllowed('GITHUB_TOKEN', ['GITHUB_TOKEN'])).toBe(true);
    expect(runnerEnvAllowed('CI', [])).toBe(true);
  });

  it('reads AUTODEV_RUNNER_ENV_ALLOW, and refuses to start when it names a worker credential or a non-name', () => {
    expect(loadConfig({ AUTODEV_RUNNER_ENV_ALLOW: 'GITHUB_TOKEN, NPM_TOKEN' }).runnerEnvAllow).toEqual(['GITHUB_TOKEN', 'NPM_TOKEN']);
    expect(loadConfig({}).runnerEnvAllow).toEqual([]);
    expect(() => loadConfig({ AUTODEV_RUNNER_ENV_ALLOW: 'GITHUB_TOKEN,DATABASE_URL' })).toThrow(
      /DATABASE_URL, one of the worker's own credentials/,
    );
    expect(() => loadConfig({ AUTODEV_RUNNER_ENV_ALLOW: 'lower-case' })).toThrow(/not an environment variable name/);
  });
});
