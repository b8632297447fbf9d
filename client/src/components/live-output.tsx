import { useState } from 'react';
import { useSubscription } from 'urql';
import { graphql } from '../gql';

const JobOutputSubscription = graphql(`
  subscription JobOutput($jobId: ID!, $afterSeq: Int) {
    jobOutput(jobId: $jobId, afterSeq: $afterSeq) {
      kind
      seq
      task
      step
      offset
      text
    }
  }
`);

interface Step {
  task: string;
  step: number;
  text: string;
  /** The stored complete message arrived (it replaces the deltas). */
  done: boolean;
}

/**
 * The model's text as it is written (jobOutput): deltas appended where their offset says, each
 * step replaced by its stored complete message when it ends. Starts from now (afterSeq: the last
 * event the page holds); earlier steps' messages are in the log.
 */
export function LiveOutput({ jobId, afterSeq }: { jobId: string; afterSeq: number }) {
  const [from] = useState(afterSeq);
  const [{ data }] = useSubscription({ query: JobOutputSubscription, variables: { jobId, afterSeq: from } }, (steps: Step[] = [], res) => {
    const o = res.jobOutput;
    if (o.kind === 'END' || o.task == null || o.step == null) return steps;
    const last = steps.at(-1);
    const same = last && last.task === o.task && last.step === o.step;
    if (o.kind === 'MESSAGE') {
      const step = { task: o.task, step: o.step, text: o.text, done: true };
      return same ? [...steps.slice(0, -1), step] : [...steps, step];
    }
    if (same) {
      // A delta joins where the text so far ends; a gap (a reconnect) waits for the step's message.
      if (last.done || o.offset !== last.text.length) return steps;
      return [...steps.slice(0, -1), { ...last, text: last.text + o.text }];
    }
    return [...steps, { task: o.task, step: o.step, text: (o.offset ?? 0) === 0 ? o.text : `…${o.text}`, done: false }];
  });
  const steps = (data ?? []).slice(-5);
  if (!steps.length) return null;
  return (
    <section className="panel" aria-labelledby="live-output-title">
      <h2 id="live-output-title">Model output</h2>
      {steps.map((s) => (
        <div key={`${s.task}-${s.step}`} className="live-step">
          <h3>
            Task {s.task}, step {s.step + 1} {s.done ? '' : <span className="muted">(writing…)</span>}
          </h3>
          <pre className="live-text" data-testid="live-text" data-done={s.done} aria-live="polite">
            {s.text}
          </pre>
        </div>
      ))}
    </section>
  );
}
