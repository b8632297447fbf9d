import { duration } from '../lib/format';

/** A check the runner ran on the final workspace, as the engine stores it among the guardrail results. */
export interface CheckResult {
  name: string;
  passed: boolean;
  message: string;
  details: { exitCode: number | null; timedOut: boolean; durationMs: number; output: string };
}

export const isCheckResult = (g: unknown): g is CheckResult => {
  if (typeof g !== 'object' || g === null) return false;
  const c = g as Partial<CheckResult>;
  return typeof c.name === 'string' && c.name.startsWith('check:') && typeof c.details === 'object' && 'durationMs' in c.details;
};

/** Each check: its name, how it ended (exit code or time limit), how long it took and the tail of its output. */
export function CheckResults({ checks }: { checks: CheckResult[] }) {
  if (!checks.length) return null;
  return (
    <div className="checks-scroll">
      <table className="checks" aria-label="Checks">
        <colgroup>
          <col className="check-name" />
          <col className="check-result" />
          <col className="check-exit" />
          <col className="check-duration" />
          <col />
        </colgroup>
        <thead>
          <tr>
            <th>Check</th>
            <th>Result</th>
            <th>Exit code</th>
            <th>Duration</th>
            <th>Output (tail)</th>
          </tr>
        </thead>
        <tbody>
          {checks.map((c) => (
            <tr key={c.name} className={c.passed ? 'pass' : 'fail'} data-check={c.name.slice('check:'.length)}>
              <td>
                <code>{c.name.slice('check:'.length)}</code>
              </td>
              <td>{c.passed ? '✓ passed' : c.details.timedOut ? '✗ timed out' : '✗ failed'}</td>
              <td data-testid="check-exit-code">{c.details.exitCode ?? '—'}</td>
              <td>{duration(c.details.durationMs)}</td>
              <td>
                <details open={!c.passed}>
                  <summary>{lastLine(c.details.output)}</summary>
                  <pre className="check-output">{c.details.output || '(no output)'}</pre>
                </details>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const lastLine = (output: string) => output.trimEnd().split('\n').at(-1)?.slice(0, 120) || '(no output)';
