import { useEffect, useMemo, useRef, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { AttemptChanges } from '../components/attempt-changes';
import { ArtifactsView, PATCH_PATH } from '../components/artifacts-view';
import { AttemptsView } from '../components/attempts-view';
import { LogView } from '../components/log-view';
import { OutputView } from '../components/output-view';
import { ReviewActions } from '../components/review-actions';
import { InputRequestPanel } from '../components/input-request';
import { LiveOutput } from '../components/live-output';
import { ErrorBox, Loading, StateBadge } from '../components/status';
import { ToolCallsView } from '../components/tool-calls-view';
import { graphql } from '../gql';
import type { JobEventType } from '../gql/graphql';
import { can, useConnection } from '../lib/connection';
import { duration, errorMessage, isTerminal, time, usd } from '../lib/format';
import { BudgetsQuery } from '../lib/operations';
import { Link } from '../lib/router';
import { useDebounced } from '../lib/use-debounced';
import { useJobEvents, type JobEvent } from '../lib/use-job-events';
import type { Crew } from './templates';

const JobQuery = graphql(`
  query CrewMonitorJob($id: ID!) {
    job(id: $id) {
      id
      state
      input
      output
      costUsd
      maxCostUsd
      attemptCount
      feedback
      lastError
      createdBy
      createdAt
      finishedAt
      template {
        slug
        name
        crew
        requiresReview
        maxAttempts
      }
      # The latest attempts (a page holds 100; jobs rarely have more than maxAttempts plus review rounds).
      attempts(last: 100) {
        edges {
          node {
            id
            number
            state
            executor
            baseCommit
            startedAt
            finishedAt
            exitReason
            errorCode
            costUsd
            inputTokens
            outputTokens
            guardrailResults
            feedback
            artifacts {
              id
              path
              contentType
              sizeBytes
              downloadUrl
            }
          }
        }
      }
      review {
        id
        status
        output
      }
    }
  }
`);

const CancelJob = graphql(`
  mutation CancelJob($id: ID!, $reason: String) {
    cancelJob(id: $id, reason: $reason) {
      id
      state
    }
  }
`);

/** Refetch the job when an event changes what the query shows (state, attempts, files, guardrails). */
const REFRESHING = new Set<JobEventType>(['STATE_CHANGED', 'ARTIFACT', 'GUARDRAIL']);

function useNow(active: boolean) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

function Timeline({ events, now }: { events: JobEvent[]; now: number }) {
  const changes = events.filter((e) => e.type === 'STATE_CHANGED');
  return (
    <ol className="timeline" aria-label="State timeline">
      {changes.map((e, i) => {
        const end = changes[i + 1] ? Date.parse(changes[i + 1].createdAt) : isTerminal(e.toState ?? '') ? null : now;
        return (
          <li key={e.seq} data-state={e.toState}>
            <StateBadge state={e.toState ?? ''} /> <span className="muted">{time(e.createdAt)}</span>
            {end !== null && <span> · {duration(end - Date.parse(e.createdAt))}</span>}
            {e.message && <div className="muted small">{e.message}</div>}
          </li>
        );
      })}
    </ol>
  );
}

function CrewProgress({ crew, events }: { crew: Crew; events: JobEvent[] }) {
  const attempt = Math.max(0, ...events.filter((e) => e.type === 'TASK_STARTED').map((e) => e.attemptNumber ?? 0));
  const mine = events.filter((e) => e.attemptNumber === attempt);
  const status = (task: string) =>
    mine.some((e) => e.type === 'TASK_COMPLETED' && (e.data as { task?: string })?.task === task)
      ? 'done'
      : mine.some((e) => e.type === 'TASK_STARTED' && (e.data as { task?: string })?.task === task)
        ? 'running'
        : 'pending';
  return (
    <div className="crew">
      <h3>Agents</h3>
      <ul>
        {crew.agents.map((a) => (
          <li key={a.id}>
            <strong>{a.role}</strong> {a.model && <code>{a.model}</code>}
          </li>
        ))}
      </ul>
      <h3>Tasks{attempt ? ` (attempt ${attempt})` : ''}</h3>
      <ol className="tasks">
        {crew.tasks.map((t) => (
          <li key={t.id} className={`task ${status(t.id)}`} data-task={t.id} data-status={status(t.id)}>
            <span className="task-status">{status(t.id)}</span> <strong>{t.id}</strong> —{' '}
            {crew.agents.find((a) => a.id === t.agent)?.role ?? t.agent}
          </li>
        ))}
      </ol>
    </div>
  );
}

/** CrewMonitor: one job, live. */
export function CrewMonitorPage({ id }: { id: string }) {
  const { role } = useConnection();
  const [{ data, fetching, error }, refetch] = useQuery({ query: JobQuery, variables: { id } });
  const [budgets, refetchBudgets] = useQuery({ query: BudgetsQuery });
  const [cancelled, cancel] = useMutation(CancelJob);
  const { events, status } = useJobEvents(id);

  // The stream is the live truth; the query fills in what events do not carry.
  const refresh = useDebounced(() => {
    refetch({ requestPolicy: 'network-only' });
    refetchBudgets({ requestPolicy: 'network-only' });
  }, 150);
  const seen = useRef(0);
  useEffect(() => {
    const fresh = events.slice(seen.current);
    seen.current = events.length;
    if (fresh.some((e) => REFRESHING.has(e.type))) refresh();
  }, [events, refresh]);

  const live = useMemo(() => {
    const lastState = events.findLast((e) => e.type === 'STATE_CHANGED')?.toState;
    const usage = events.findLast((e) => e.type === 'USAGE')?.data as { jobCostUsd?: number; projectSpentUsd?: number } | undefined;
    return { state: lastState, cost: usage?.jobCostUsd, projectSpent: usage?.projectSpentUsd };
  }, [events]);

  const job = data?.job;
  const state = live.state ?? job?.state ?? 'QUEUED';
  const now = useNow(!isTerminal(state));

  if (fetching && !data) return <Loading what="the job" />;
  if (error && !data) return <ErrorBox message={errorMessage(error)} onRetry={() => refetch({ requestPolicy: 'network-only' })} />;
  if (!job) return <ErrorBox message="This job does not exist in your project." />;

  const crew = job.template.crew as Crew;
  const cost = Math.max(live.cost ?? 0, job.costUsd);
  const budget = budgets.data?.budgets[0];
  const projectSpent = Math.max(live.projectSpent ?? 0, budget?.spentUsd ?? 0);
  const attempts = job.attempts.edges.map((e) => e.node);
  const lastAttempt = attempts.at(-1);
  const previousAttempt = attempts.at(-2);

  return (
    <main className="monitor">
      <p>
        <Link to="/">← Jobs</Link>
      </p>
      <div className="page-head">
        <h1>
          {job.template.name} <StateBadge state={state} />
        </h1>
        <span className={`live ${status === 'live' ? '' : 'off'}`} data-stream={status}>
          {status === 'live' ? 'live' : status === 'connecting' ? 'connecting…' : 'reconnecting…'}
        </span>
        {can(role, 'OPERATOR') && !isTerminal(state) && (
          <button
            type="button"
            className="danger"
            disabled={cancelled.fetching}
            onClick={() =>
              confirm('Cancel this job? A running attempt is stopped.') && void cancel({ id, reason: 'cancelled from the web app' })
            }
          >
            Cancel job
          </button>
        )}
      </div>
      <ErrorBox message={errorMessage(cancelled.error)} />
      <p className="muted">
        Job <code>{job.id}</code> · created by {job.createdBy} · {job.attemptCount} of up to {job.template.maxAttempts} attempts
      </p>
      {!['SUCCEEDED', 'AWAITING_REVIEW'].includes(state) && <ErrorBox message={job.lastError} />}

      <div className="grid">
        <section className="panel" aria-labelledby="timeline-title">
          <h2 id="timeline-title">Timeline</h2>
          <Timeline events={events} now={now} />
        </section>
        <section className="panel" aria-labelledby="crew-title">
          <h2 id="crew-title">Crew</h2>
          <CrewProgress crew={crew} events={events} />
        </section>
        <section className="panel" aria-labelledby="cost-title">
          <h2 id="cost-title">Cost</h2>
          <p className="big" data-testid="job-cost">
            {usd(cost)}
          </p>
          <Meter label="Job limit" value={cost} max={job.maxCostUsd} />
          <Meter label="Project budget" value={projectSpent} max={budget?.limitUsd} />
        </section>
      </div>

      {state === 'AWAITING_INPUT' && (
        <InputRequestPanel
          jobId={id}
          key={events.findLast((e) => e.type === 'STATE_CHANGED')?.seq ?? 0}
          onAnswered={() => refetch({ requestPolicy: 'network-only' })}
        />
      )}
      {!isTerminal(state) && <LiveOutput jobId={id} afterSeq={events.at(-1)?.seq ?? 0} />}

      {state === 'AWAITING_REVIEW' && job.review?.status === 'PENDING' && (
        <section className="panel" aria-labelledby="review-title">
          <h2 id="review-title">Review</h2>
          {can(role, 'REVIEWER') ? (
            <ReviewActions
              key={job.review.id}
              reviewId={job.review.id}
              output={job.review.output}
              tasks={crew.tasks.map((t) => t.id)}
              onDecided={() => refetch({ requestPolicy: 'network-only' })}
            />
          ) : (
            <p className="muted">Waiting for a reviewer. Your token cannot decide reviews.</p>
          )}
        </section>
      )}

      <section className="panel" aria-labelledby="output-title">
        <h2 id="output-title">Output</h2>
        <OutputView output={job.output ?? null} />
        {lastAttempt && lastAttempt.artifacts.some((a) => a.path !== PATCH_PATH) && (
          <>
            <h3>
              Files of attempt {lastAttempt.number}
              {previousAttempt ? ` (changes since attempt ${previousAttempt.number})` : ''}
            </h3>
            <ArtifactsView artifacts={lastAttempt.artifacts} previous={previousAttempt?.artifacts} />
          </>
        )}
      </section>

      {attempts.some((a) => a.baseCommit) && <ChangesPanel jobId={job.id} attempts={attempts} />}

      <ToolCallsView events={events} now={now} />

      <section className="panel" aria-labelledby="attempts-title">
        <h2 id="attempts-title">Attempts</h2>
        <AttemptsView attempts={attempts} />
      </section>

      <LogView events={events} />
    </main>
  );
}

/** The patch of one attempt (the last by default) as a rendered diff. */
function ChangesPanel({
  jobId,
  attempts,
}: {
  jobId: string;
  attempts: { number: number; baseCommit?: string | null; artifacts: { id: string; path: string; downloadUrl: string }[] }[];
}) {
  const [chosen, setChosen] = useState<number | null>(null);
  const number = chosen ?? attempts.at(-1)!.number;
  const attempt = attempts.find((a) => a.number === number) ?? attempts.at(-1)!;
  const patch = attempt.artifacts.find((a) => a.path === PATCH_PATH);
  return (
    <section className="panel" aria-labelledby="changes-title">
      <div className="panel-head">
        <h2 id="changes-title">Changes</h2>
        {attempts.length > 1 && (
          <label>
            Attempt{' '}
            <select value={number} onChange={(e) => setChosen(Number(e.target.value))} aria-label="Changes of attempt">
              {attempts.map((a) => (
                <option key={a.number} value={a.number}>
                  {a.number}
                </option>
              ))}
            </select>
          </label>
        )}
        {patch && (
          <a href={patch.downloadUrl} download>
            Download {PATCH_PATH}
          </a>
        )}
      </div>
      <AttemptChanges key={attempt.number} jobId={jobId} number={attempt.number} version={attempt.artifacts.map((a) => a.id).join(',')} />
    </section>
  );
}

function Meter({ label, value, max }: { label: string; value: number; max: number | null | undefined }) {
  if (max == null) return <p className="muted">{label}: none set</p>;
  const pct = max > 0 ? Math.min(100, (value / max) * 100) : 100;
  return (
    <div className="meter">
      <span>
        {label}: {usd(value)} of {usd(max)} ({pct.toFixed(0)}%)
      </span>
      <progress value={pct} max={100} aria-label={label} />
    </div>
  );
}
