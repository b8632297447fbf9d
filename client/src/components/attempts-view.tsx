import { duration, usd } from '../lib/format';
import { CheckResults, isCheckResult } from './check-results';
import { StateBadge } from './status';

export interface AttemptRow {
  id: string;
  number: number;
  state: string;
  executor: string;
  startedAt: string;
  finishedAt?: string | null;
  exitReason?: string | null;
  errorCode?: string | null;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  guardrailResults?: unknown;
  feedback?: string | null;
}

interface Guardrail {
  name: string;
  passed: boolean;
  message: string;
}

export function GuardrailList({ results }: { results: unknown }) {
  const all = Array.isArray(results) ? (results as unknown[]) : [];
  if (!all.length) return <span className="muted">not checked</span>;
  // Checks (commands run on the final workspace) get their own table: exit code, duration, output.
  const checks = all.filter(isCheckResult);
  const list = all.filter((g) => !isCheckResult(g)) as Guardrail[];
  return (
    <>
      {list.length > 0 && (
        <ul className="guardrails">
          {list.map((g) => (
            <li key={g.name} className={g.passed ? 'pass' : 'fail'}>
              <span aria-label={g.passed ? 'passed' : 'failed'}>{g.passed ? '✓' : '✗'}</span> <strong>{g.name}</strong>: {g.message}
            </li>
          ))}
        </ul>
      )}
      <CheckResults checks={checks} />
    </>
  );
}

/** Every attempt: how it ended, what it cost, what the guardrails said, what feedback it got. */
export function AttemptsView({ attempts }: { attempts: AttemptRow[] }) {
  if (!attempts.length) return <p className="muted">No attempt has started yet.</p>;
  return (
    <ol className="attempts">
      {attempts.map((a) => (
        <li key={a.id} data-attempt={a.number}>
          <div className="attempt-head">
            <strong>Attempt {a.number}</strong> <StateBadge state={a.state} /> <span className="muted">{a.executor}</span>{' '}
            <span>{a.finishedAt ? duration(Date.parse(a.finishedAt) - Date.parse(a.startedAt)) : 'running'}</span> ·{' '}
            <span>{usd(a.costUsd)}</span> ·{' '}
            <span className="muted">
              {a.inputTokens.toLocaleString()} in / {a.outputTokens.toLocaleString()} out tokens
            </span>
          </div>
          {a.feedback && (
            <p>
              <em>Reviewer feedback given to this attempt:</em> {a.feedback}
            </p>
          )}
          {a.exitReason && (
            <p className={a.state === 'SUCCEEDED' ? 'muted' : 'error-text'}>
              {a.errorCode ? <code>{a.errorCode}</code> : null} {a.exitReason}
            </p>
          )}
          <GuardrailList results={a.guardrailResults} />
        </li>
      ))}
    </ol>
  );
}
