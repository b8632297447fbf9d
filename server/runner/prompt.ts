import { answerText } from './human-input.ts';
import type { AgentDef, ChatMessage, RunnerSpec, TaskDef } from './spec.ts';

/**
 * The messages for one task, CrewAI style: the agent's persona as the system message; the task,
 * its expected output, the job input, the earlier outputs it may see and any reviewer feedback
 * as the user message, with what a person answered to a task that asked. The last task must
 * answer with JSON matching the output schema.
 */
export function buildTaskMessages(
  spec: RunnerSpec,
  task: TaskDef,
  agent: AgentDef,
  earlier: Map<string, string>,
  isLast: boolean,
  answers: Map<string, string | null> = new Map(),
): ChatMessage[] {
  const system = `You are ${agent.role}. ${agent.backstory}\nYour personal goal is: ${agent.goal}`;
  const parts = [
    `Current task: ${task.description}`,
    `Expected output: ${task.expectedOutput}`,
    `Job input:\n${JSON.stringify(spec.input, null, 2)}`,
  ];
  const visible = task.context ?? [...earlier.keys()];
  const roles = new Map(spec.crew.tasks.map((t) => [t.id, spec.crew.agents.find((a) => a.id === t.agent)?.role ?? t.agent]));
  for (const id of visible) {
    const out = earlier.get(id);
    if (out !== undefined) parts.push(`Output of task "${id}" (${roles.get(id)}):\n${out}`);
    if (answers.has(id)) parts.push(`Human input on task "${id}":\n${answerText(answers.get(id)!)}`);
  }
  if (spec.feedback) {
    const f = spec.feedback;
    const lines = ['Reviewer feedback on the previous attempt:'];
    if (f.comment) lines.push(f.comment);
    if (f.previousOutput !== undefined) lines.push(`Previous output:\n${JSON.stringify(f.previousOutput, null, 2)}`);
    for (const v of f.guardrailViolations ?? []) lines.push(`Guardrail "${v.name}" failed: ${v.message}`);
    parts.push(lines.join('\n'));
  }
  if (isLast) {
    parts.push(`Respond with only a JSON object that satisfies this JSON Schema:\n${JSON.stringify(spec.outputSchema)}`);
  }
  return [
    { role: 'system', content: system },
    { role: 'user', content: parts.join('\n\n') },
  ];
}
