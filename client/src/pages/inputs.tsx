import { useQuery } from 'urql';
import { AnswerForm } from '../components/input-request';
import { Empty, ErrorBox, Loading } from '../components/status';
import { graphql } from '../gql';
import { errorMessage } from '../lib/format';
import { Link } from '../lib/router';
import { useRefetchOnStateChange } from '../lib/use-debounced';

const WaitingJobsQuery = graphql(`
  query WaitingForInput {
    jobs(filter: { states: [AWAITING_INPUT] }, first: 100) {
      edges {
        node {
          id
          createdAt
          template {
            name
          }
          inputRequest {
            task
            question
            askedAt
            expiresAt
            onTimeout
          }
        }
      }
    }
  }
`);

/** Jobs waiting for a person's answer; updates live when a job starts or stops waiting. */
export function InputsPage() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: WaitingJobsQuery });
  const reload = () => refetch({ requestPolicy: 'network-only' });
  useRefetchOnStateChange(reload);
  const jobs = (data?.jobs.edges.map((e) => e.node) ?? []).filter((j) => j.inputRequest);
  return (
    <main>
      <div className="page-head">
        <h1>Input queue</h1>
        <span className="muted" data-testid="input-count">
          {data ? `${jobs.length} waiting` : ''}
        </span>
      </div>
      <ErrorBox message={errorMessage(error)} onRetry={reload} />
      {fetching && !data && <Loading what="questions" />}
      {data && jobs.length === 0 && (
        <Empty>No job is waiting for an answer. Tasks with humanInput or a question stop here when they finish.</Empty>
      )}
      {jobs.map((j) => (
        <section key={j.id} className="panel" aria-label={`${j.template.name}: task ${j.inputRequest!.task}`}>
          <h2>
            <Link to={`/jobs/${j.id}`}>{j.template.name}</Link>
          </h2>
          <AnswerForm jobId={j.id} request={j.inputRequest!} onAnswered={reload} />
        </section>
      ))}
    </main>
  );
}
