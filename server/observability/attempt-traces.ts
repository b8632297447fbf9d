import { context, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { RunnerEvent } from '../runner-protocol/parse-runner-output.ts';

/**
 * Child spans of an attempt, rebuilt from the runner protocol: one per crew task (task_started →
 * task_completed) and, inside it, one per model call (ending at its usage report).
 */
export function createAttemptTraces(tracer: Tracer, attemptSpan: Span) {
  const parent = trace.setSpan(context.active(), attemptSpan);
  const tasks = new Map<string, { span: Span; lastCallEnd: number }>();
  return {
    record(event: RunnerEvent) {
      if (event.type === 'task_started') {
        const span = tracer.startSpan(
          `task ${event.task}`,
          { attributes: { 'autodev.task': event.task, 'autodev.agent': event.agent } },
          parent,
        );
        tasks.set(event.task, { span, lastCallEnd: Date.now() });
      } else if (event.type === 'usage') {
        const task = event.task ? tasks.get(event.task) : [...tasks.values()].at(-1);
        const ctx = task ? trace.setSpan(context.active(), task.span) : parent;
        const call = tracer.startSpan(
          `model ${event.model}`,
          {
            startTime: task?.lastCallEnd,
            attributes: {
              'gen_ai.request.model': event.model,
              'gen_ai.usage.input_tokens': event.inputTokens,
              'gen_ai.usage.output_tokens': event.outputTokens,
            },
          },
          ctx,
        );
        call.end();
        if (task) task.lastCallEnd = Date.now();
      } else if (event.type === 'task_completed') {
        tasks.get(event.task)?.span.end();
        tasks.delete(event.task);
      }
    },
    /** Ends task spans the runner never completed (failure, timeout, cancel). */
    end() {
      for (const { span } of tasks.values()) span.end();
      tasks.clear();
    },
  };
}
