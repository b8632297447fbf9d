import { useQuery } from 'urql';
import { Empty, ErrorBox, Loading, StateBadge } from '../components/status';
import { graphql } from '../gql';
import type { JobState } from '../gql/graphql';
import { dateTime, errorMessage, usd } from '../lib/format';
import { Link, navigate, usePath } from '../lib/router';
import { useRefetchOnStateChange } from '../lib/use-debounced';

const JobsQuery = graphql(`
  query Jobs($filter: JobFilter) {
    jobs(first: 50, filter: $filter) {
      edges {
        node {
          id
          state
          costUsd
          attemptCount
          createdAt
          createdBy
          input
          template {
            slug
            name
          }
        }
      }
    }
    templates(first: 100) {
      edges {
        node {
          slug
          name
        }
      }
    }
  }
`);

// Every state, in lifecycle order: a Record, so a state the schema gains fails the type check until it is placed here.
const STATE_ORDER: Record<JobState, true> = {
  QUEUED: true,
  RUNNING: true,
  AWAITING_INPUT: true,
  AWAITING_REVIEW: true,
  SUCCEEDED: true,
  FAILED: true,
  REJECTED: true,
  CANCELLED: true,
  BUDGET_EXCEEDED: true,
};
const STATES = Object.keys(STATE_ORDER) as JobState[];

const titleOf = (input: unknown) => {
  const i = (input ?? {}) as Record<string, unknown>;
  const t = i.title ?? i.name ?? i.modulePath ?? Object.values(i).find((v) => typeof v === 'string');
  return typeof t === 'string' ? t : '';
};

/** The project's jobs, filtered by state and template in the URL, updating live. */
export function JobsPage() {
  const path = usePath();
  const params = new URLSearchParams(path.split('?')[1] ?? '');
  const state = params.get('state') ?? '';
  const template = params.get('template') ?? '';
  const filter = { ...(state ? { states: [state as JobState] } : {}), ...(template ? { templateSlug: template } : {}) };
  const [{ data, fetching, error }, refetch] = useQuery({ query: JobsQuery, variables: { filter } });

  const live = useRefetchOnStateChange(() => refetch({ requestPolicy: 'network-only' }));

  const setParam = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    const qs = next.toString();
    navigate(qs ? `/?${qs}` : '/');
  };
  const jobs = data?.jobs.edges.map((e) => e.node) ?? [];

  return (
    <main>
      <div className="page-head">
        <h1>Jobs</h1>
        <Link to="/templates" className="button">
          New job
        </Link>
      </div>
      <div className="filters">
        <label>
          State{' '}
          <select value={state} onChange={(e) => setParam('state', e.target.value)}>
            <option value="">all</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s.replaceAll('_', ' ').toLowerCase()}
              </option>
            ))}
          </select>
        </label>
        <label>
          Template{' '}
          <select value={template} onChange={(e) => setParam('template', e.target.value)}>
            <option value="">all</option>
            {data?.templates.edges.map(({ node }) => (
              <option key={node.slug} value={node.slug}>
                {node.name}
              </option>
            ))}
          </select>
        </label>
        <span className={`live ${live.paused ? 'off' : ''}`}>{live.paused ? 'live updates paused' : 'live'}</span>
      </div>
      <ErrorBox message={errorMessage(error)} onRetry={() => refetch({ requestPolicy: 'network-only' })} />
      {fetching && !data && <Loading what="jobs" />}
      {data && jobs.length === 0 && (
        <Empty>
          {state || template ? 'No job matches these filters.' : 'No jobs yet.'} <Link to="/templates">Launch one from a template.</Link>
        </Empty>
      )}
      {jobs.length > 0 && (
        <div className="table-wrap">
          <table className="jobs">
            <thead>
              <tr>
                <th>Job</th>
                <th>Template</th>
                <th>State</th>
                <th>Attempts</th>
                <th>Cost</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((j) => (
                <tr key={j.id} data-job={j.id}>
                  <td>
                    <Link to={`/jobs/${j.id}`}>{titleOf(j.input) || j.id.slice(0, 8)}</Link>
                  </td>
                  <td>{j.template.name}</td>
                  <td>
                    <StateBadge state={j.state} />
                  </td>
                  <td>{j.attemptCount}</td>
                  <td>{usd(j.costUsd)}</td>
                  <td>
                    {dateTime(j.createdAt)} <span className="muted">by {j.createdBy}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}
