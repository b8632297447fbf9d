import { scanBytes, scanText, scanValue, redactValue, type SecretFinding } from '../secrets/redact.ts';
import type { RunnerEvent } from '../runner-protocol/parse-runner-output.ts';

/**
 * A runner event as the engine may keep it: every string redacted (ids, model names, paths and
 * keys of the result included, since the runner controls them all). Secrets found in what the
 * crew produced (task outputs, artifacts, the result) are returned as `leaks`, which fail the
 * attempt's no-secrets guardrail; in operational text (logs, errors) they are only removed.
 */
export function redactRunnerEvent(event: RunnerEvent): { event: RunnerEvent; leaks: SecretFinding[] } {
  switch (event.type) {
    case 'task_completed': {
      const rest = redactValue({ ...event, output: '' });
      const output = scanText(event.output);
      return {
        event: { ...rest, output: output.text },
        leaks: output.found.map((kind) => ({ kind, path: `the output of task ${rest.task}` })),
      };
    }
    case 'message':
    case 'text_delta': {
      // The model's text is what the crew produced. A delta is scanned alone: a secret split across
      // two deltas passes the live stream, but not the step's message (stored, scanned whole).
      const rest = redactValue({ ...event, text: '' });
      const text = scanText(event.text);
      return {
        event: { ...rest, text: text.text },
        leaks: text.found.map((kind) => ({ kind, path: `the model's text in task ${rest.task}` })),
      };
    }
    case 'result': {
      const output = scanValue(event.output);
      return { event: { ...event, output: output.value }, leaks: output.found };
    }
    case 'artifact': {
      const rest = redactValue({ ...event, content: '' });
      const encoding = event.encoding === 'base64' ? 'base64' : 'utf8';
      const scanned = scanBytes(Buffer.from(event.content, encoding));
      const content = scanned.found.length ? scanned.body.toString(encoding) : event.content;
      return { event: { ...rest, content }, leaks: scanned.found.map((kind) => ({ kind, path: `artifact ${rest.path}` })) };
    }
    default:
      return { event: redactValue(event), leaks: [] };
  }
}
