import { useMemo, useState } from 'react';
import { duration, time } from '../lib/format';
import { argsSummary, commandOutcome, textSize, toolCalls, type ToolCall } from '../lib/tool-calls';
import type { JobEvent } from '../lib/use-job-events';

/** Most calls listed at once (the newest); the log holds every one. */
const SHOWN = 300;

/**
 * The crew's tool calls as they happen: which agent called which tool with what, how long it took,
 * how much went in and came out, and what it answered (run_command: the exit code). A call without
 * an answer yet is running, its time counting.
 */
export function ToolCallsView({ events, now }: { events: JobEvent[]; now: number }) {
  const calls = useMemo(() => toolCalls(events), [events]);
  const attempts = useMemo(() => [...new Set(calls.map((c) => c.attempt ?? 0))], [calls]);
  const [attempt, setAttempt] = useState<number | 'all'>('all');
  const shown = (attempt === 'all' ? calls : calls.filter((c) => (c.attempt ?? 0) === attempt)).slice(-SHOWN);
  const failed = shown.filter((c) => c.result && !c.result.ok).length;
  return (
    <section className="panel" aria-labelledby="tools-title">
      <div className="panel-head">
        <h2 id="tools-title">Tool calls</h2>
        {attempts.length > 1 && (
          <label>
            Attempt{' '}
            <select
              value={attempt}
              onChange={(e) => setAttempt(e.target.value === 'all' ? 'all' : Number(e.target.value))}
              aria-label="Tool calls of attempt"
            >
              <option value="all">all</option>
              {attempts.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          </label>
        )}
        <span className="muted" data-testid="tool-call-count" data-count={shown.length}>
          {shown.length} call{shown.length === 1 ? '' : 's'}
          {failed ? `, ${failed} failed` : ''}
        </span>
      </div>
      {calls.length === 0 ? (
        <p className="muted">
          No tool calls yet. Crews whose agents have tools (reading, editing, running commands) show each call here as it happens.
        </p>
      ) : (
        <ol className="tool-calls" aria-label="Tool calls">
          {shown.map((c) => (
            <ToolCallRow key={c.key} call={c} now={now} showAttempt={attempts.length > 1} />
          ))}
        </ol>
      )}
    </section>
  );
}

function ToolCallRow({ call, now, showAttempt }: { call: ToolCall; now: number; showAttempt: boolean }) {
  const r = call.result;
  const state = !r ? 'running' : r.ok ? 'ok' : 'failed';
  const outcome = r && call.tool === 'run_command' ? commandOutcome(r.output) : null;
  const took = r ? duration(r.durationMs) : duration(now - Date.parse(call.startedAt));
  return (
    <li className={`tool-call ${state}`} data-tool={call.tool} data-state={state} data-seq={call.seq}>
      <details>
        <summary>
          <span className="tool-state" aria-label={state}>
            {state === 'running' ? '…' : state === 'ok' ? '✓' : '✗'}
          </span>
          <code className="tool-name">{call.tool}</code>
          <span className="tool-args" title={call.args}>
            {argsSummary(call)}
          </span>
          {outcome && <span className={`tool-outcome ${r?.ok ? 'ok' : 'failed'}`}>{outcome}</span>}
          <span className="tool-duration" data-testid="tool-duration">
            {r ? took : `running ${took}`}
          </span>
          <span className="tool-sizes muted">
            {textSize(call.args, call.argsTruncated)} in{r ? ` · ${textSize(r.output, r.outputTruncated)} out` : ''}
          </span>
          <span className="tool-who muted">
            {showAttempt && call.attempt ? `#${call.attempt} · ` : ''}
            {call.agent}
            {call.task ? ` / ${call.task}` : ''} · {time(call.startedAt)}
          </span>
        </summary>
        <div className="tool-detail">
          <h4>Arguments{call.argsTruncated ? ' (cut at 16 KiB)' : ''}</h4>
          <pre>{prettyJson(call.args)}</pre>
          <h4>Result{r?.outputTruncated ? ' (cut at 16 KiB)' : ''}</h4>
          {r ? <pre className="tool-output">{r.output || '(empty)'}</pre> : <p className="muted">Still running.</p>}
        </div>
      </details>
    </li>
  );
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
