import { createHash } from 'node:crypto';
import type { ModelProvider } from '../spec.ts';
import { schemaInstance } from './schema-instance.ts';

const estimateTokens = (text: string) => Math.ceil(text.length / 4);

function subjectOf(input: unknown): string {
  const i = (input ?? {}) as Record<string, unknown>;
  const s = i.title ?? i.modulePath ?? i.name ?? Object.values(i).find((v) => typeof v === 'string');
  return typeof s === 'string' ? s.slice(0, 80) : 'the request';
}

/**
 * A provider that needs no network: deterministic text per task, and for the last task an output
 * that satisfies the template's output schema. Token usage is estimated (4 characters a token),
 * so budgets and costs behave as with a real model.
 */
export function createOfflineProvider(): ModelProvider {
  return {
    async complete({ model, messages, json, spec, taskId }) {
      if (spec.provider.delayMs) await new Promise((r) => setTimeout(r, spec.provider.delayMs));
      const prompt = messages.map((m) => m.content).join('\n');
      const seed = createHash('sha256')
        .update(`${spec.template.slug}:${taskId}:${JSON.stringify(spec.input)}:${spec.feedback?.comment ?? ''}`)
        .digest('hex');
      const subject = subjectOf(spec.input);
      const persona = /^You are ([^.]+)\./.exec(messages[0]?.content ?? '')?.[1] ?? 'the agent';
      const text = json
        ? JSON.stringify(schemaInstance(spec.outputSchema, { subject, seed }), null, 2)
        : `${persona} on "${subject}" (task ${taskId}, ref ${seed.slice(0, 8)}): ` +
          `analysed the request${spec.feedback?.comment ? ` and addressed the reviewer's feedback ("${spec.feedback.comment.slice(0, 120)}")` : ''}; ` +
          'the result is ready for the next task.';
      return { text, model, inputTokens: estimateTokens(prompt), outputTokens: estimateTokens(text) };
    },
  };
}
