import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runtimeTemplate } from '../test/agent-runtime-fixtures.ts';
import { TOOL_NAMES } from '../runner/tools/index.ts';
import { validateTemplateDefinition } from './validate-template.ts';

const base = () =>
  runtimeTemplate({ slug: 'fix-tests', tools: ['read_file', 'run_command'], checks: [{ name: 'test', command: 'node --test' }] });

describe('templates on the agent runtime', () => {
  it('accept the six tools, a workspace mapped to declared input fields and checks', () => {
    const t = base();
    t.crew.agents[0].tools = [...TOOL_NAMES];
    expect(validateTemplateDefinition(t)).toMatchObject({ ok: true });
  });

  it('refuse any tool name that is not one of the six, naming the agent and the tool', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/).filter((n) => !TOOL_NAMES.includes(n)),
        (name) => {
          const t = base();
          t.crew.agents[0].tools = ['read_file', name];
          const r = validateTemplateDefinition(t);
          expect(r.ok).toBe(false);
          if (!r.ok)
            expect(r.errors).toContainEqual({
              field: 'crew.agents[0].tools[1]',
              message: expect.stringContaining(`agent \`dev\` the unknown tool \`${name}\``),
            });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuse a placeholder the input schema does not declare, in a task or an agent, and accept an escaped one', () => {
    const t = base();
    t.crew.tasks[0].description = 'Fix {repository} for {ticket}.';
    t.crew.agents[0].goal = 'Ship {release.name}';
    const r = validateTemplateDefinition(t);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.map((e) => e.field).sort()).toEqual(['crew.agents[0].goal', 'crew.tasks[0].description']);
      expect(r.message).toContain('`{ticket}`');
      expect(r.message).toContain('`{release.name}`');
    }
    const escaped = base();
    escaped.crew.tasks[0].description = 'Write JSON like {"a": 1} and the literal {{ticket}}.';
    expect(validateTemplateDefinition(escaped)).toMatchObject({ ok: true });
  });

  it('refuse a workspace naming an input field that is not declared, or not a string, and repeated check names', () => {
    const t = base();
    t.workspace = { repositoryField: 'repo', refField: 'ref' };
    (t.inputSchema.properties as any).ref = { type: 'integer' };
    t.checks = [
      { name: 'test', command: 'a' },
      { name: 'test', command: 'b' },
    ];
    const r = validateTemplateDefinition(t);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.field).sort()).toEqual(['checks[1].name', 'workspace.refField', 'workspace.repositoryField']);
  });
});
