import { useQuery } from 'urql';
import { Empty, ErrorBox, Loading } from '../components/status';
import { graphql } from '../gql';
import { errorMessage, usd } from '../lib/format';
import { Link } from '../lib/router';

const TemplatesQuery = graphql(`
  query Templates {
    templates(first: 100) {
      edges {
        node {
          id
          slug
          version
          name
          description
          requiresReview
          maxAttempts
          timeoutSeconds
          crew
          typicalCostUsd
        }
      }
    }
  }
`);

export interface Crew {
  agents: { id: string; role: string; goal?: string; model?: string }[];
  tasks: { id: string; description: string; expectedOutput?: string; agent: string }[];
}

/** TemplateSelector: what each crew is, who is in it, what it does, and what it typically costs. */
export function TemplatesPage() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: TemplatesQuery });
  const templates = data?.templates.edges.map((e) => e.node) ?? [];
  return (
    <main>
      <h1>New job</h1>
      <p className="muted">Pick a crew. Each template fixes the agents, their tasks and the shape of the input and output.</p>
      <ErrorBox message={errorMessage(error)} onRetry={() => refetch({ requestPolicy: 'network-only' })} />
      {fetching && !data && <Loading what="templates" />}
      {data && templates.length === 0 && (
        <Empty>
          No templates yet. An admin adds them with the <code>upsertTemplate</code> mutation.
        </Empty>
      )}
      <ul className="cards">
        {templates.map((t) => {
          const crew = t.crew as Crew;
          return (
            <li key={t.id} className="card" data-template={t.slug}>
              <h2>{t.name}</h2>
              <p>{t.description}</p>
              <dl className="facts">
                <dt>Review</dt>
                <dd>{t.requiresReview ? 'required' : 'not required'}</dd>
                <dt>Typical cost</dt>
                <dd>{t.typicalCostUsd == null ? 'no finished job yet' : usd(t.typicalCostUsd)}</dd>
                <dt>Attempts</dt>
                <dd>up to {t.maxAttempts}</dd>
                <dt>Version</dt>
                <dd>{t.version}</dd>
              </dl>
              <details>
                <summary>
                  {crew.agents.length} agents, {crew.tasks.length} tasks
                </summary>
                <h3>Agents</h3>
                <ul>
                  {crew.agents.map((a) => (
                    <li key={a.id}>
                      <strong>{a.role}</strong> {a.model && <code>{a.model}</code>} — {a.goal}
                    </li>
                  ))}
                </ul>
                <h3>Tasks</h3>
                <ol>
                  {crew.tasks.map((task) => (
                    <li key={task.id}>
                      <strong>{task.id}</strong> ({crew.agents.find((a) => a.id === task.agent)?.role ?? task.agent}): {task.description}
                    </li>
                  ))}
                </ol>
              </details>
              <Link to={`/templates/${encodeURIComponent(t.slug)}`} className="button">
                Use this template
              </Link>
            </li>
          );
        })}
      </ul>
    </main>
  );
}
