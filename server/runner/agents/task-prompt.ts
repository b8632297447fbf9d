// The prompt for one task, CrewAI style: the agent's persona as the system message; the task, its
// expected output, the job input, the earlier outputs it may see and any feedback from the last
// attempt as the user message. Placeholders are filled from the job input in all of them.
import { fillPlaceholders } from './placeholders.ts';
import { answerText } from '../human-input.ts';

export interface AgentPersona {
  role: string;
  goal: string;
  backstory: string;
}

export interface TaskBrief {
  description: string;
  expectedOutput: string;
  /** A JSON Schema the answer must satisfy (structured output). */
  outputSchema?: Record<string, unknown>;
}

/** An earlier task's output this task may see. */
export interface TaskContext {
  task: string;
  role?: string;
  output: string;
  /** What a person answered when the task asked (humanInput); null: the wait ended without an answer. */
  answer?: string | null;
}

/** What the previous attempt left for this one: a reviewer's comment, guardrail or check failures. */
export interface AttemptFeedback {
  comment?: string;
  previousOutput?: unknown;
  guardrailViolations?: { name: string; message: string }[];
}

export function buildTaskPrompt(p: {
  agent: AgentPersona;
  task: TaskBrief;
  input: unknown;
  context: TaskContext[];
  feedback?: AttemptFeedback | null;
  toolNames: string[];
}) {
  const fill = (text: string) => fillPlaceholders(text, p.input);
  const system = `You are ${fill(p.agent.role)}. ${fill(p.agent.backstory)}\nYour personal goal is: ${fill(p.agent.goal)}`;
  const parts = [
    `Current task: ${fill(p.task.description)}`,
    `Expected output: ${fill(p.task.expectedOutput)}`,
    `Job input:\n${JSON.stringify(p.input, null, 2)}`,
  ];
  for (const c of p.context) {
    parts.push(`Output of task "${c.task}"${c.role ? ` (${c.role})` : ''}:\n${c.output}`);
    if (c.answer !== undefined) parts.push(`Human input on task "${c.task}":\n${answerText(c.answer)}`);
  }
  const f = p.feedback;
  if (f) {
    const lines = ['Feedback on the previous attempt:'];
    if (f.comment) lines.push(f.comment);
    if (f.previousOutput !== undefined) lines.push(`Previous output:\n${JSON.stringify(f.previousOutput, null, 2)}`);
    for (const v of f.guardrailViolations ?? []) lines.push(`Check "${v.name}" failed: ${v.message}`);
    parts.push(lines.join('\n'));
  }
  if (p.toolNames.length)
    parts.push(`You can use these tools: ${p.toolNames.join(', ')}. Use them to do the work, then give your final answer.`);
  if (p.task.outputSchema) {
    // Also in the prompt: endpoints without json_schema support only get `json_object`.
    parts.push(`Your final answer must be only a JSON object that satisfies this JSON Schema:\n${JSON.stringify(p.task.outputSchema)}`);
  }
  return { system, prompt: parts.join('\n\n') };
}
