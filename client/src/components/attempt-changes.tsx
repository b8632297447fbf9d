import { useEffect, useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import { errorMessage } from '../lib/format';
import { PatchView } from './patch-view';
import { ErrorBox, Loading } from './status';

graphql(`
  fragment AttemptDiffFields on AttemptDiff {
    fromAttempt
    toAttempt
    baseCommit
    additions
    deletions
    linesCut
    unavailableReason
    files {
      path
      status
      binary
      additions
      deletions
      note
      hunks {
        oldStart
        oldLines
        newStart
        newLines
        section
        lines
      }
    }
  }
`);

const AttemptChangesQuery = graphql(`
  query AttemptChanges($jobId: ID!, $number: Int!, $since: Boolean!) {
    job(id: $jobId) {
      id
      attempt(number: $number) {
        id
        number
        baseCommit
        diff @skip(if: $since) {
          ...AttemptDiffFields
        }
        diffSince @include(if: $since) {
          ...AttemptDiffFields
        }
      }
    }
  }
`);

/**
 * An attempt's change as a rendered diff: against the base commit its workspace started from, or
 * (from attempt 2 on) against the previous attempt's result. `version` changes when the attempt
 * stores a new file, so the diff is asked for again.
 */
export function AttemptChanges({ jobId, number, version }: { jobId: string; number: number; version: string }) {
  const [sinceChosen, setSince] = useState(false);
  const since = sinceChosen && number > 1;
  const [{ data, fetching, error }, refetch] = useQuery({ query: AttemptChangesQuery, variables: { jobId, number, since } });
  useEffect(() => {
    refetch({ requestPolicy: 'network-only' });
  }, [version, refetch]);
  const attempt = data?.job?.attempt;
  const diff = since ? attempt?.diffSince : attempt?.diff;
  return (
    <div className="attempt-changes" data-attempt-changes={number}>
      <div className="tabs" role="group" aria-label={`Changes of attempt ${number} against`}>
        <button type="button" className={since ? '' : 'selected'} aria-pressed={!since} onClick={() => setSince(false)}>
          Against base commit{attempt?.baseCommit ? ` ${attempt.baseCommit.slice(0, 10)}` : ''}
        </button>
        {number > 1 && (
          <button type="button" className={since ? 'selected' : ''} aria-pressed={since} onClick={() => setSince(true)}>
            Since attempt {number - 1}
          </button>
        )}
      </div>
      <ErrorBox message={errorMessage(error)} onRetry={() => refetch({ requestPolicy: 'network-only' })} />
      {fetching && !data && <Loading what="the changes" />}
      {data && !diff && (
        <p className="muted" data-testid="diff-none">
          {attempt?.baseCommit
            ? 'No changes.patch yet: it is stored when the crew finishes its tasks (none when nothing changed).'
            : 'This attempt has no workspace, so no patch.'}
        </p>
      )}
      {diff && (
        <PatchView
          diff={diff}
          label={
            since ? `Changes of attempt ${number} since attempt ${number - 1}` : `Changes of attempt ${number} against the base commit`
          }
        />
      )}
    </div>
  );
}
