import { useState, type SyntheticEvent } from 'react';
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
  mutation ApproveReview($id: ID!, $comment: String, $output: JSON) {
    approveReview(id: $id, comment: $comment, output: $output) {
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
  mutation RequestChanges($id: ID!, $feedback: String!, $fromTask: String) {
    requestChanges(id: $id, feedback: $feedback, fromTask: $fromTask) {
      ...DecidedReview
    }
  }
`);

type Decision = 'approve' | 'reject' | 'changes';

/**
 * Approve (optionally with an edited output, which the server checks against the template's output
 * guardrails), reject with a comment, or send back with feedback, from a chosen task (default: the
 * crew's last one; earlier tasks' outputs are reused).
 */
export function ReviewActions({
  reviewId,
  output,
  tasks,
  onDecided,
}: {
  reviewId: string;
  /** The crew's output under review: the starting point of an edit. */
  output: unknown;
  /** The crew's task ids, in order. */
  tasks: readonly string[];
  onDecided?: () => void;
}) {
  const [decision, setDecision] = useState<Decision>('approve');
  const [text, setText] = useState('');
  const [editing, setEditing] = useState(false);
  const [edited, setEdited] = useState(() => JSON.stringify(output ?? null, null, 2));
  const [fromTask, setFromTask] = useState(tasks.at(-1) ?? '');
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [approve, doApprove] = useMutation(Approve);
  const [reject, doReject] = useMutation(Reject);
  const [changes, doChanges] = useMutation(RequestChanges);
  const busy = approve.fetching || reject.fetching || changes.fetching;
  const error = jsonError ?? errorMessage(approve.error ?? reject.error ?? changes.error);
  const needsText = decision !== 'approve';

  const approveWith = () => {
    if (!editing) return doApprove({ id: reviewId, comment: text || null });
    let parsed: unknown;
    try {
      parsed = JSON.parse(edited);
    } catch (err) {
      setJsonError(`The edited output is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    }
    return doApprove({ id: reviewId, comment: text || null, output: parsed });
  };

  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    setJsonError(null);
    const res =
      decision === 'approve'
        ? await approveWith()
        : decision === 'reject'
          ? await doReject({ id: reviewId, comment: text })
          : await doChanges({ id: reviewId, feedback: text, fromTask: fromTask || null });
    if (res && !res.error) {
      setText('');
      onDecided?.();
    }
  };

  return (
    <form className="review-actions" onSubmit={(e) => void submit(e)} aria-label="Decide this review">
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
            <input
              type="radio"
              name={`decision-${reviewId}`}
              value={value}
              checked={decision === value}
              onChange={() => setDecision(value)}
            />{' '}
            {label}
          </label>
        ))}
      </fieldset>
      {decision === 'approve' && (
        <>
          <label>
            <input type="checkbox" checked={editing} onChange={(e) => setEditing(e.target.checked)} /> Edit the output before approving
          </label>
          {editing && (
            <label>
              Edited output (JSON; checked against the template&apos;s output schema)
              <textarea className="code" value={edited} onChange={(e) => setEdited(e.target.value)} rows={10} spellCheck={false} />
            </label>
          )}
        </>
      )}
      {decision === 'changes' && tasks.length > 1 && (
        <label>
          Run again from task
          <select value={fromTask} onChange={(e) => setFromTask(e.target.value)}>
            {tasks.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        {decision === 'approve' ? 'Comment (optional)' : decision === 'reject' ? 'Why it is rejected' : 'What the crew should change'}
        <textarea value={text} onChange={(e) => setText(e.target.value)} rows={3} required={needsText} />
      </label>
      <ErrorBox message={error} />
      <button type="submit" disabled={busy || (needsText && !text.trim())}>
        {decision === 'approve'
          ? editing
            ? 'Approve the edited output'
            : 'Approve'
          : decision === 'reject'
            ? 'Reject'
            : 'Request changes'}
      </button>
    </form>
  );
}
