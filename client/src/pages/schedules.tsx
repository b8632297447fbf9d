import Form from '@rjsf/core';
import type { RJSFSchema } from '@rjsf/utils';
import validator from '@rjsf/validator-ajv8';
import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { formButtons } from '../components/form-buttons';
import { Empty, ErrorBox, Loading } from '../components/status';
import { graphql } from '../gql';
import { can, useConnection } from '../lib/connection';
import { dateTime, errorMessage } from '../lib/format';

const SchedulesQuery = graphql(`
  query Schedules {
    schedules {
      id
      cron
      timezone
      paused
      nextRunAt
      lastTickAt
      skippedTicks
      input
      template {
        slug
        name
      }
    }
    templates(first: 100) {
      edges {
        node {
          id
          slug
          name
          inputSchema
        }
      }
    }
  }
`);

const CreateSchedule = graphql(`
  mutation CreateSchedule($input: ScheduleInput!) {
    createSchedule(input: $input) {
      id
    }
  }
`);

const UpdateSchedule = graphql(`
  mutation UpdateSchedule($id: ID!, $input: ScheduleUpdate!) {
    updateSchedule(id: $id, input: $input) {
      id
      cron
      paused
      nextRunAt
    }
  }
`);

const DeleteSchedule = graphql(`
  mutation DeleteSchedule($id: ID!) {
    deleteSchedule(id: $id)
  }
`);

type Schedule = NonNullable<ReturnType<typeof useSchedules>[0]['data']>['schedules'][number];
const useSchedules = () => useQuery({ query: SchedulesQuery, requestPolicy: 'cache-and-network' });

/** The project's schedules: each runs a template with a fixed input on a cron expression. */
export function SchedulesPage() {
  const canChange = can(useConnection().role, 'OPERATOR');
  const [{ data, fetching, error }, refetch] = useSchedules();
  const reload = () => refetch({ requestPolicy: 'network-only' });
  return (
    <main>
      <div className="page-head">
        <h1>Schedules</h1>
        <span className="muted">{data ? `${data.schedules.length} schedule${data.schedules.length === 1 ? '' : 's'}` : ''}</span>
      </div>
      <ErrorBox message={errorMessage(error)} onRetry={reload} />
      {fetching && !data && <Loading what="schedules" />}
      {data && data.schedules.length === 0 && <Empty>No schedule yet.</Empty>}
      {data?.schedules.map((s) => (
        <ScheduleRow key={s.id} schedule={s} canChange={canChange} onChanged={reload} />
      ))}
      {data && canChange && <NewSchedule templates={data.templates.edges.map((e) => e.node)} onCreated={reload} />}
      {data && !canChange && <div className="notice">Your token is a viewer token: creating or changing a schedule needs an operator.</div>}
    </main>
  );
}

function ScheduleRow({ schedule: s, canChange, onChanged }: { schedule: Schedule; canChange: boolean; onChanged: () => void }) {
  const [updated, update] = useMutation(UpdateSchedule);
  const [deleted, remove] = useMutation(DeleteSchedule);
  const [cron, setCron] = useState<string | null>(null);
  const busy = updated.fetching || deleted.fetching;
  const change = async (input: { paused?: boolean; cron?: string }) => {
    const res = await update({ id: s.id, input });
    if (!res.error) {
      setCron(null);
      onChanged();
    }
  };
  return (
    <section className="panel" aria-label={`Schedule of ${s.template.name}`}>
      <h2>
        {s.template.name} <code>{s.cron}</code> <span className="muted">({s.timezone})</span>
      </h2>
      <p data-testid="next-run">
        {s.paused ? 'Paused.' : s.nextRunAt ? `Next run: ${dateTime(s.nextRunAt)}` : 'Fires no more.'}
        {s.lastTickAt && ` · Last run: ${dateTime(s.lastTickAt)}`}
        {s.skippedTicks > 0 && ` · ${s.skippedTicks} missed while nothing ran`}
      </p>
      <details>
        <summary>Input</summary>
        <pre>{JSON.stringify(s.input, null, 2)}</pre>
      </details>
      {canChange && (
        <div className="actions">
          <button type="button" disabled={busy} onClick={() => void change({ paused: !s.paused })}>
            {s.paused ? 'Resume' : 'Pause'}
          </button>
          {cron === null ? (
            <button type="button" disabled={busy} onClick={() => setCron(s.cron)}>
              Edit cron
            </button>
          ) : (
            <form
              onSubmit={(e) => {
                e.preventDefault();
                void change({ cron });
              }}
            >
              <label>
                New cron expression <input value={cron} onChange={(e) => setCron(e.target.value)} />
              </label>{' '}
              <button type="submit" disabled={busy}>
                Save cron
              </button>{' '}
              <button type="button" className="link" onClick={() => setCron(null)}>
                Cancel
              </button>
            </form>
          )}
          <button type="button" disabled={busy} onClick={() => void remove({ id: s.id }).then((res) => !res.error && onChanged())}>
            Delete
          </button>
        </div>
      )}
      <ErrorBox message={errorMessage(updated.error) ?? errorMessage(deleted.error)} />
    </section>
  );
}

function NewSchedule({
  templates,
  onCreated,
}: {
  templates: { slug: string; name: string; inputSchema: unknown }[];
  onCreated: () => void;
}) {
  const [slug, setSlug] = useState(templates[0]?.slug ?? '');
  const [cron, setCron] = useState('0 9 * * 1-5');
  const [timezone, setTimezone] = useState(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
  const [formData, setFormData] = useState<unknown>(undefined);
  const [created, create] = useMutation(CreateSchedule);
  const template = templates.find((t) => t.slug === slug);
  const submit = async (input: unknown) => {
    const res = await create({ input: { templateSlug: slug, input, cron, timezone } });
    if (!res.error) {
      setFormData(undefined);
      onCreated();
    }
  };
  return (
    <section className="panel form" aria-label="New schedule">
      <h2>New schedule</h2>
      <p className="muted">
        Cron: 5 fields (minute hour day month weekday), or 6 with seconds first — <code>0 9 * * 1-5</code> is 9:00 on weekdays,{' '}
        <code>*/30 * * * * *</code> every 30 seconds.
      </p>
      <label>
        Template{' '}
        <select
          value={slug}
          onChange={(e) => {
            setSlug(e.target.value);
            setFormData(undefined);
          }}
        >
          {templates.map((t) => (
            <option key={t.slug} value={t.slug}>
              {t.name}
            </option>
          ))}
        </select>
      </label>{' '}
      <label>
        Cron expression <input value={cron} onChange={(e) => setCron(e.target.value)} />
      </label>{' '}
      <label>
        Time zone <input value={timezone} onChange={(e) => setTimezone(e.target.value)} />
      </label>
      {template && (
        <Form
          key={slug}
          schema={template.inputSchema as RJSFSchema}
          uiSchema={{ 'ui:submitButtonOptions': { norender: true } }}
          validator={validator}
          templates={{ ButtonTemplates: formButtons }}
          formData={formData}
          onChange={(e) => setFormData(e.formData)}
          onSubmit={(e) => void submit(e.formData)}
          onError={() => {} /* the errors are shown in the form */}
          showErrorList="top"
          noHtml5Validate
          disabled={created.fetching}
        >
          <ErrorBox message={errorMessage(created.error)} />
          <button type="submit" disabled={created.fetching}>
            {created.fetching ? 'Creating…' : 'Create schedule'}
          </button>
        </Form>
      )}
    </section>
  );
}
