import { useState, type SubmitEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import { can, useConnection } from '../lib/connection';
import { dateTime, errorMessage } from '../lib/format';
import { ErrorBox } from './status';

const InputRequestQuery = graphql(`
  query JobInputRequest($id: ID!) {
    job(id: $id) {
      id
      state
      inputRequest {
        task
        question
        askedAt
        expiresAt
        onTimeout
      }
    }
  }
`);

const ProvideInput = graphql(`
  mutation ProvideInput($jobId: ID!, $answer: String!) {
    provideInput(jobId: $jobId, answer: $answer) {
      id
      state
      inputRequest {
        task
      }
    }
  }
`);

export interface InputRequestShape {
  task: string;
  question: string;
  askedAt: string;
  expiresAt?: string | null;
  onTimeout?: string | null;
}

/** The question a waiting job asks and, for an operator, the form that answers it (provideInput). */
export function AnswerForm({ jobId, request, onAnswered }: { jobId: string; request: InputRequestShape; onAnswered?: () => void }) {
  const { role } = useConnection();
  const [answer, setAnswer] = useState('');
  const [sent, send] = useMutation(ProvideInput);
  const submit = async (e: SubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    const res = await send({ jobId, answer });
    if (!res.error) {
      setAnswer('');
      onAnswered?.();
    }
  };
  const field = `answer-${jobId}`;
  return (
    <div className="input-request" data-testid="input-request">
      <p className="question">
        <strong>Task {request.task} asks:</strong> <span data-testid="question">{request.question}</span>
      </p>
      <p className="muted">
        Asked {dateTime(request.askedAt)}
        {request.expiresAt
          ? ` · without an answer by ${dateTime(request.expiresAt)} the job will ${request.onTimeout === 'continue' ? 'continue without one' : request.onTimeout === 'cancel' ? 'be cancelled' : 'fail'}`
          : ''}
      </p>
      {can(role, 'OPERATOR') ? (
        <form onSubmit={(e) => void submit(e)} aria-label={`Answer task ${request.task}`}>
          <label htmlFor={field}>Your answer</label>
          <textarea id={field} value={answer} onChange={(e) => setAnswer(e.target.value)} rows={3} required />
          <button type="submit" disabled={sent.fetching || !answer.trim()}>
            Send answer and resume
          </button>
          <ErrorBox message={errorMessage(sent.error)} />
        </form>
      ) : (
        <p className="muted">Waiting for an operator's answer. Your token cannot answer.</p>
      )}
    </div>
  );
}

/** CrewMonitor's panel while the job waits for input: reads the question itself (re-read on each state it is shown in). */
export function InputRequestPanel({ jobId, onAnswered }: { jobId: string; onAnswered?: () => void }) {
  const [{ data, error }] = useQuery({ query: InputRequestQuery, variables: { id: jobId }, requestPolicy: 'network-only' });
  const request = data?.job?.inputRequest;
  return (
    <section className="panel" aria-labelledby="input-title">
      <h2 id="input-title">Input needed</h2>
      <ErrorBox message={errorMessage(error)} />
      {request ? <AnswerForm jobId={jobId} request={request} onAnswered={onAnswered} /> : <p className="muted">Reading the question…</p>}
    </section>
  );
}
