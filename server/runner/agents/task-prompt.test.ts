import { describe, expect, it } from 'vitest';
import { buildTaskPrompt } from './task-prompt.ts';

describe('the prompt of a task', () => {
  const base = {
    agent: { role: '{language} developer', goal: 'Fix {title}', backstory: 'Knows {repo.name} well.' },
    task: { description: 'Fix {title} in {repo.name}', expectedOutput: 'A patch for {title}' },
    input: { title: 'the cart total', language: 'TypeScript', repo: { name: 'shop' } },
    context: [],
    toolNames: [],
  };

  it('fills placeholders in the persona, the task and its expected output, and shows the job input', () => {
    const { system, prompt } = buildTaskPrompt(base);
    expect(system).toBe('You are TypeScript developer. Knows shop well.\nYour personal goal is: Fix the cart total');
    expect(prompt).toContain('Current task: Fix the cart total in shop');
    expect(prompt).toContain('Expected output: A patch for the cart total');
    expect(prompt).toContain(`Job input:\n${JSON.stringify(base.input, null, 2)}`);
    expect(prompt).not.toMatch(/\{(title|repo\.name|language)\}/);
  });

  it('includes earlier outputs, the previous attempt’s feedback and failed checks, the tools and the output schema', () => {
    const schema = { type: 'object', required: ['summary'] };
    const { prompt } = buildTaskPrompt({
      ...base,
      task: { ...base.task, outputSchema: schema },
      context: [{ task: 'plan', role: 'Planner', output: '1. read cart.ts' }],
      feedback: {
        comment: 'Also handle an empty cart.',
        guardrailViolations: [{ name: 'npm test', message: '1 failing: total([]) is NaN' }],
      },
      toolNames: ['read_file', 'edit_file'],
    });
    expect(prompt).toContain('Output of task "plan" (Planner):\n1. read cart.ts');
    expect(prompt).toContain(
      'Feedback on the previous attempt:\nAlso handle an empty cart.\nCheck "npm test" failed: 1 failing: total([]) is NaN',
    );
    expect(prompt).toContain('You can use these tools: read_file, edit_file.');
    expect(prompt).toContain(JSON.stringify(schema));
  });
});
