import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import { errorMessage } from '../lib/format';
import { ErrorBox } from './status';

// What a decision changes, refetched from each of the three mutations.
graphql(`
  fragment DecidedReview on Review {
    id
    status
    job {
      id
      state
    }
  }
`);
const Approve = graphql(`
  mutation ApproveReview($id: ID!, $comment: String) {
    approveReview(id: $id, comment: $comment) {
      ...DecidedReview
    }
  }
`);
const Reject = graphql(`
  mutation RejectReview($id: ID!, $comment: String!) {
    rejectReview(id: $id, comment: $comment) {
      ...DecidedReview
    }
  }
`);
const RequestChanges = graphql(`
  mutation RequestChanges($id: ID!, $feedback: String!) {
    requestChanges(id: $id, feedback: $feedback) {
      ...DecidedReview
    }
  }
`);

type Decision = 'approve' | 'reject' | 'changes';

/** Approve, reject with a comment, or send back with feedback for the next attempt. */
export function ReviewActions({ reviewId, onDecided }: { reviewId: string; onDecided?: () => void }) {
  const [decision, setDecision] = useState<Decision>('approve');
  const [text, setText] = useState('');
  const [approve, doApprove] = useMutation(Approve);
  const [reject, doReject] = useMutation(Reject);
  const [changes, doChanges] = useMutation(RequestChanges);
  const busy = approve.fetching || reject.fetching || changes.fetching;
  const error = errorMessage(approve.error ?? reject.error ?? changes.error);
  const needsText = decision !== 'approve';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const res =
      decision === 'approve'
        ? await doApprove({ id: reviewId, comment: text || null })
        : decision === 'reject'
          ? await doReject({ id: reviewId, comment: text })
          : await doChanges({ id: reviewId, feedback: text });
    if (!res.error) {
      setText('');
      onDecided?.();
    }
  };

  return (
    <form className="review-actions" onSubmit={submit} aria-label="Decide this review">
      <fieldset>
        <legend>Decision</legend>
        {(
          [
            ['approve', 'Approve'],
            ['changes', 'Request changes'],
            ['reject', 'Reject'],
          ] as const
        ).map(([value, label]) => (
          <label key={value}>
            <input type="radio" name={`decision-${reviewId}`} value={value} checked={decision === value} onChange={() => setDecision(value)} /> {label}
          </label>
        ))}
      </fieldset>
      <label>
        {decision === 'approve' ? 'Comment (optional)' : decision === 'reject' ? 'Why it is rejected' : 'What the crew should change'}
        <textarea value={text} onChange={(e) => setText(e.target.value)} rows={3} required={needsText} />
      </label>
      <ErrorBox message={error} />
      <button type="submit" disabled={busy || (needsText && !text.trim())}>
        {decision === 'approve' ? 'Approve' : decision === 'reject' ? 'Reject' : 'Request changes'}
      </button>
    </form>
  );
}
