import { useState, type SyntheticEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { Empty, ErrorBox, Loading } from '../components/status';
import { graphql } from '../gql';
import type { WebhookEventType } from '../gql/graphql';
import { can, useConnection } from '../lib/connection';
import { dateTime, errorMessage } from '../lib/format';

// Webhook endpoints of the project and each one's delivery log (ADMIN: the server refuses others).

const EndpointsQuery = graphql(`
  query WebhookEndpoints {
    webhookEndpoints {
      id
      url
      description
      eventTypes
      enabled
      previousSecretExpiresAt
      deliveries(first: 20) {
        edges {
          node {
            id
            webhookId
            eventType
            status
            attempts
            responseStatus
            durationMs
            lastError
            nextRetryAt
            createdAt
          }
        }
      }
    }
  }
`);
const CreateEndpoint = graphql(`
  mutation CreateWebhookEndpoint($input: WebhookEndpointInput!) {
    createWebhookEndpoint(input: $input) {
      secret
      endpoint {
        id
        url
      }
    }
  }
`);
const UpdateEndpoint = graphql(`
  mutation UpdateWebhookEndpoint($id: ID!, $input: WebhookEndpointUpdate!) {
    updateWebhookEndpoint(id: $id, input: $input) {
      id
      url
      description
      eventTypes
      enabled
    }
  }
`);
const DeleteEndpoint = graphql(`
  mutation DeleteWebhookEndpoint($id: ID!) {
    deleteWebhookEndpoint(id: $id)
  }
`);
const RotateSecret = graphql(`
  mutation RotateWebhookSecret($id: ID!) {
    rotateWebhookSecret(id: $id) {
      secret
      endpoint {
        id
        previousSecretExpiresAt
      }
    }
  }
`);
const Redeliver = graphql(`
  mutation RedeliverWebhook($id: ID!) {
    redeliverWebhook(deliveryId: $id) {
      id
      status
      attempts
      nextRetryAt
    }
  }
`);

const EVENT_TYPES: [WebhookEventType, string][] = [
  ['JOB_STATE_CHANGED', 'Job state changes'],
  ['REVIEW_REQUESTED', 'Reviews requested'],
  ['INPUT_REQUESTED', 'Input requested'],
  ['BUDGET_THRESHOLD', 'Budget thresholds'],
];

/** The secret, shown once after a creation or rotation. */
function SecretNotice({ secret }: { secret: string }) {
  return (
    <p role="status" aria-label="New signing secret">
      Signing secret, shown only now: <code data-testid="webhook-secret">{secret}</code>
    </p>
  );
}

function EndpointForm(props: {
  initial?: { url: string; description: string; eventTypes: readonly WebhookEventType[] };
  submitLabel: string;
  busy: boolean;
  onSubmit: (v: { url: string; description: string; eventTypes: WebhookEventType[] }) => Promise<boolean>;
}) {
  const [url, setUrl] = useState(props.initial?.url ?? '');
  const [description, setDescription] = useState(props.initial?.description ?? '');
  const [types, setTypes] = useState<WebhookEventType[]>([...(props.initial?.eventTypes ?? ['JOB_STATE_CHANGED'])]);
  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    if ((await props.onSubmit({ url, description, eventTypes: types })) && !props.initial) setUrl('');
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="inline-form">
      <label>
        URL <input type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://…" />
      </label>
      <label>
        Description <input value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      {EVENT_TYPES.map(([type, label]) => (
        <label key={type}>
          <input
            type="checkbox"
            checked={types.includes(type)}
            onChange={(e) => setTypes(e.target.checked ? [...types, type] : types.filter((x) => x !== type))}
          />{' '}
          {label}
        </label>
      ))}
      <button type="submit" disabled={props.busy}>
        {props.submitLabel}
      </button>
    </form>
  );
}

export function WebhooksPage() {
  const { role } = useConnection();
  const [result, refresh] = useQuery({ query: EndpointsQuery, requestPolicy: 'network-only', pause: !can(role, 'ADMIN') });
  const [created, create] = useMutation(CreateEndpoint);
  const [updated, update] = useMutation(UpdateEndpoint);
  const [deleted, remove] = useMutation(DeleteEndpoint);
  const [rotated, rotate] = useMutation(RotateSecret);
  const [redelivered, redeliver] = useMutation(Redeliver);
  const [secret, setSecret] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const reload = () => refresh({ requestPolicy: 'network-only' });

  if (!can(role, 'ADMIN')) {
    return (
      <main>
        <h1>Webhooks</h1>
        <Empty>Webhooks are managed with an ADMIN token.</Empty>
      </main>
    );
  }
  const endpoints = result.data?.webhookEndpoints;
  const mutationError = errorMessage(created.error ?? updated.error ?? deleted.error ?? rotated.error ?? redelivered.error);
  return (
    <main>
      <div className="panel-head">
        <h1>Webhooks</h1>
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </div>
      <section className="panel" aria-labelledby="new-endpoint">
        <h2 id="new-endpoint">New endpoint</h2>
        <EndpointForm
          submitLabel="Create endpoint"
          busy={created.fetching}
          onSubmit={async (input) => {
            const res = await create({ input });
            if (res.data) {
              setSecret(res.data.createWebhookEndpoint.secret);
              reload();
            }
            return !res.error;
          }}
        />
      </section>
      {secret && <SecretNotice secret={secret} />}
      <ErrorBox message={mutationError ?? errorMessage(result.error)} />
      {!endpoints && <Loading what="the endpoints" />}
      {endpoints?.length === 0 && <Empty>No endpoints yet.</Empty>}
      {endpoints?.map((e) => (
        <section key={e.id} className="panel" aria-label={`Endpoint ${e.url}`}>
          <div className="panel-head">
            <h2>{e.url}</h2>
            <span>{e.enabled ? 'enabled' : 'disabled'}</span>
            <button type="button" onClick={() => setEditing(editing === e.id ? null : e.id)}>
              Edit
            </button>
            <button type="button" onClick={() => void update({ id: e.id, input: { enabled: !e.enabled } }).then(reload)}>
              {e.enabled ? 'Disable' : 'Enable'}
            </button>
            <button
              type="button"
              onClick={() =>
                void rotate({ id: e.id }).then((res) => {
                  if (res.data) setSecret(res.data.rotateWebhookSecret.secret);
                })
              }
            >
              Rotate secret
            </button>
            <button type="button" onClick={() => void remove({ id: e.id }).then(reload)}>
              Delete
            </button>
          </div>
          <p>
            {e.description && <>{e.description} · </>}
            {e.eventTypes.join(', ')}
            {e.previousSecretExpiresAt && <> · previous secret signs until {dateTime(e.previousSecretExpiresAt)}</>}
          </p>
          {editing === e.id && (
            <EndpointForm
              initial={e}
              submitLabel="Save"
              busy={updated.fetching}
              onSubmit={async (input) => {
                const res = await update({ id: e.id, input });
                if (!res.error) setEditing(null);
                return !res.error;
              }}
            />
          )}
          {e.deliveries.edges.length === 0 ? (
            <Empty>No deliveries yet.</Empty>
          ) : (
            <table className="jobs" aria-label="Deliveries">
              <thead>
                <tr>
                  <th>Created</th>
                  <th>Event</th>
                  <th>Status</th>
                  <th>Code</th>
                  <th>Duration</th>
                  <th>Attempts</th>
                  <th>Next retry</th>
                  <th>Last error</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {e.deliveries.edges.map(({ node: d }) => (
                  <tr key={d.id} title={d.webhookId}>
                    <td>{dateTime(d.createdAt)}</td>
                    <td>{d.eventType}</td>
                    <td>{d.status}</td>
                    <td>{d.responseStatus ?? '—'}</td>
                    <td>{d.durationMs === null ? '—' : `${d.durationMs} ms`}</td>
                    <td>{d.attempts}</td>
                    <td>{d.nextRetryAt ? dateTime(d.nextRetryAt) : '—'}</td>
                    <td>{d.lastError ?? ''}</td>
                    <td>
                      <button type="button" onClick={() => void redeliver({ id: d.id }).then(reload)}>
                        Redeliver
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      ))}
    </main>
  );
}
