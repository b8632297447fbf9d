import { useState } from 'react';
import { useQuery } from 'urql';
import { AttemptChanges } from '../components/attempt-changes';
import { ArtifactsView, PATCH_PATH } from '../components/artifacts-view';
import { GuardrailList } from '../components/attempts-view';
import { OutputView } from '../components/output-view';
import { ReviewActions } from '../components/review-actions';
import { Empty, ErrorBox, Loading } from '../components/status';
import { graphql } from '../gql';
import type { ReviewQueueQuery } from '../gql/graphql';
import { can, useConnection } from '../lib/connection';
import { dateTime, errorMessage, usd } from '../lib/format';
import { Link } from '../lib/router';
import { useRefetchOnStateChange } from '../lib/use-debounced';
import type { Crew } from './templates';

const ReviewsQuery = graphql(`
  query ReviewQueue {
    reviews(status: PENDING, first: 100) {
      edges {
        node {
          id
          createdAt
          output
          job {
            id
            costUsd
            input
            template {
              name
              crew
            }
            # The attempt under review is the job's latest; the one before it, for the diff.
            attempts(last: 2) {
              edges {
                node {
                  id
                  number
                  baseCommit
                  guardrailResults
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
          }
          attempt {
            id
            number
          }
        }
      }
    }
  }
`);

/** Jobs awaiting review, oldest first; updates live when anyone decides or a job arrives. */
export function ReviewsPage() {
  const { role } = useConnection();
  const [{ data, fetching, error }, refetch] = useQuery({ query: ReviewsQuery });
  const [selected, setSelected] = useState<string | null>(null);
  useRefetchOnStateChange(() => refetch({ requestPolicy: 'network-only' }));

  const reviews = data?.reviews.edges.map((e) => e.node) ?? [];
  const current = reviews.find((r) => r.id === selected) ?? reviews[0];

  return (
    <main>
      <div className="page-head">
        <h1>Review queue</h1>
        <span className="muted" data-testid="review-count">
          {data ? `${reviews.length} waiting` : ''}
        </span>
      </div>
      <ErrorBox message={errorMessage(error)} onRetry={() => refetch({ requestPolicy: 'network-only' })} />
      {fetching && !data && <Loading what="reviews" />}
      {data && reviews.length === 0 && (
        <Empty>Nothing to review. Jobs of templates that require review appear here when their crew finishes.</Empty>
      )}
      {current && (
        <div className="queue">
          <ul className="queue-list" aria-label="Waiting reviews">
            {reviews.map((r) => (
              <li key={r.id}>
                <button
                  type="button"
                  className={r.id === current.id ? 'selected' : ''}
                  aria-pressed={r.id === current.id}
                  onClick={() => setSelected(r.id)}
                  data-review={r.id}
                >
                  <strong>{r.job.template.name}</strong>
                  <span className="muted">
                    {dateTime(r.createdAt)} · {usd(r.job.costUsd)}
                  </span>
                </button>
              </li>
            ))}
          </ul>
          <ReviewDetail
            key={current.id}
            review={current}
            canDecide={can(role, 'REVIEWER')}
            onDecided={() => refetch({ requestPolicy: 'network-only' })}
          />
        </div>
      )}
    </main>
  );
}

type ReviewNode = ReviewQueueQuery['reviews']['edges'][number]['node'];

function ReviewDetail({ review, canDecide, onDecided }: { review: ReviewNode; canDecide: boolean; onDecided: () => void }) {
  const attempts = review.job.attempts.edges.map((e) => e.node);
  const attempt = attempts.find((a) => a.id === review.attempt?.id) ?? attempts.at(-1);
  const previous = attempt ? attempts.find((a) => a.number === attempt.number - 1) : undefined;
  return (
    <article className="panel review-detail" aria-label="Review">
      <h2>
        {review.job.template.name} <Link to={`/jobs/${review.job.id}`}>open job</Link>
      </h2>
      <p className="muted">
        Attempt {attempt?.number ?? '?'} · cost so far {usd(review.job.costUsd)}
      </p>
      <h3>Input</h3>
      <OutputView output={review.job.input} />
      <h3>Output</h3>
      <OutputView output={review.output} />
      <h3>Guardrails</h3>
      <GuardrailList results={attempt?.guardrailResults} />
      {attempt?.baseCommit && (
        <>
          <h3>Patch</h3>
          <AttemptChanges jobId={review.job.id} number={attempt.number} version={attempt.artifacts.map((a) => a.id).join(',')} />
        </>
      )}
      {attempt && (!attempt.baseCommit || attempt.artifacts.some((a) => a.path !== PATCH_PATH)) && (
        <>
          <h3>Changes{previous ? ` since attempt ${previous.number}` : ''}</h3>
          <ArtifactsView artifacts={attempt.artifacts} previous={previous?.artifacts} />
        </>
      )}
      {canDecide ? (
        <ReviewActions
          reviewId={review.id}
          output={review.output}
          tasks={(review.job.template.crew as Crew).tasks.map((t) => t.id)}
          onDecided={onDecided}
        />
      ) : (
        <p className="muted">Your token cannot decide reviews (reviewer or admin needed).</p>
      )}
    </article>
  );
}
