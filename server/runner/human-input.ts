// Human input mid-run (CrewAI's `human_input`): a task that declares `humanInput: true` or a
// `question` makes the runner stop after it with an `input_requested` event; the job then waits
// (AWAITING_INPUT) and a later attempt resumes from the checkpoints with the person's answer,
// which every later task that sees the asking task's output also sees.
import { fillPlaceholders } from './agents/placeholders.ts';
import type { RunnerSpec, TaskDef } from './spec.ts';

export function asksForInput(task: { humanInput?: boolean; question?: string }): boolean {
  return task.humanInput === true || Boolean(task.question);
}

/** The question shown to the person: the task's own (placeholders filled), or one naming the task. */
export function questionOf(task: Pick<TaskDef, 'id' | 'question'>, input: unknown): string {
  return task.question
    ? fillPlaceholders(task.question, input)
    : `Task "${task.id}" is done. Read its output and give your input for the tasks that follow.`;
}

/** The human answers the completed tasks got, by task id (null: the wait ended without one). */
export function answersOf(spec: Pick<RunnerSpec, 'resume'>): Map<string, string | null> {
  const answers = new Map<string, string | null>();
  for (const c of spec.resume?.completed ?? []) if (c.answer !== undefined) answers.set(c.task, c.answer);
  return answers;
}

/** How an answer reads in a later task's prompt. */
export function answerText(answer: string | null): string {
  return answer === null ? '(No answer was given within the time allowed; proceed with your best judgement.)' : answer;
}

/**
 * The first completed task that asked and has no answer yet: the runner asks again at once (a
 * worker lost between the task's checkpoint and the job's pause) instead of running anything.
 */
export function unansweredQuestion(spec: RunnerSpec): { task: TaskDef; question: string } | null {
  const tasks = new Map(spec.crew.tasks.map((t) => [t.id, t]));
  for (const c of spec.resume?.completed ?? []) {
    const task = tasks.get(c.task);
    if (task && asksForInput(task) && c.answer === undefined) return { task, question: questionOf(task, spec.input) };
  }
  return null;
}
