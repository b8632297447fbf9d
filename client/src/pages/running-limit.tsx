import { useState, type SyntheticEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { ErrorBox, Loading } from '../components/status';
import { graphql } from '../gql';
import { can, useConnection } from '../lib/connection';
import { errorMessage } from '../lib/format';

const RunningLimitQuery = graphql(`
  query RunningLimit {
    viewer {
      project {
        id
        maxRunningAttempts
        effectiveMaxRunningAttempts
      }
    }
  }
`);

const SetRunningLimit = graphql(`
  mutation SetMaxRunningAttempts($maxRunningAttempts: Int) {
    setMaxRunningAttempts(maxRunningAttempts: $maxRunningAttempts) {
      id
      maxRunningAttempts
      effectiveMaxRunningAttempts
    }
  }
`);

/** How many of the project's attempts may run at once, and (for an ADMIN) a form to change it. */
export function RunningLimitPanel() {
  const { role } = useConnection();
  const [result] = useQuery({ query: RunningLimitQuery, requestPolicy: 'network-only' });
  const [saved, save] = useMutation(SetRunningLimit);
  const [value, setValue] = useState('');
  const project = result.data?.viewer.project;

  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    const res = await save({ maxRunningAttempts: value === '' ? null : Number(value) });
    if (!res.error) setValue('');
  };

  return (
    <section className="panel" aria-labelledby="running-limit-title">
      <h2 id="running-limit-title">Attempts running at once</h2>
      <ErrorBox message={errorMessage(result.error)} />
      {result.fetching && !project && <Loading what="the limit" />}
      {project && (
        <p data-testid="running-limit">
          {project.effectiveMaxRunningAttempts === null
            ? 'No limit: the project may use every worker slot.'
            : `At most ${project.effectiveMaxRunningAttempts} at once${project.maxRunningAttempts === null ? " (the operator's default)" : ''}; jobs over it wait, queued.`}
        </p>
      )}
      {can(role, 'ADMIN') && (
        <form onSubmit={(e) => void submit(e)} className="inline-form">
          <label>
            Limit{' '}
            <input
              type="number"
              min="1"
              max="1000"
              step="1"
              placeholder="default"
              value={value}
              onChange={(e) => setValue(e.target.value)}
            />
          </label>
          <button type="submit" disabled={saved.fetching}>
            {value === '' ? 'Use the default' : 'Set limit'}
          </button>
          <ErrorBox message={errorMessage(saved.error)} />
        </form>
      )}
    </section>
  );
}
