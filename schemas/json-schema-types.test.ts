import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jsonSchemaTypes, runnerEventUnion } from './json-schema-types.ts';

const runnerSchema = () => JSON.parse(readFileSync(new URL('./runner-event.schema.json', import.meta.url), 'utf8'));

describe('types generated from schemas/*.schema.json', () => {
  it('are the committed files (run `npm run schema:types` after changing a schema)', async () => {
    for (const [file, text] of Object.entries(await jsonSchemaTypes())) {
      expect(readFileSync(new URL(file, import.meta.url), 'utf8'), `schemas/${file}`).toBe(text);
    }
  });

  it('give every runner event type exactly one member of the RunnerEvent union', () => {
    const schema = runnerSchema();
    const union = runnerEventUnion(schema);
    expect(union.oneOf!.map((m) => (m.properties!.type as { const: string }).const)).toEqual(schema.properties.type.enum);
  });

  it('refuse a runner event type the schema gives no fields to, instead of typing it loosely', () => {
    const schema = runnerSchema();
    schema.allOf = schema.allOf.filter((b: any) => b.if.properties.type.const !== 'workspace');
    expect(() => runnerEventUnion(schema)).toThrow('event types without one branch: workspace');
  });

  it('refuse a runner event branch of another shape than `if type … then …`', () => {
    const schema = runnerSchema();
    schema.allOf[0].if = { properties: { type: { const: 'log' }, level: { const: 'info' } } };
    expect(() => runnerEventUnion(schema)).toThrow('allOf[0] is not');
  });
});
