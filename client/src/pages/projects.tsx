import { useEffect, useState, type SyntheticEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { ErrorBox } from '../components/status';
import { graphql } from '../gql';
import { loadToken, saveToken } from '../lib/auth';
import { useConnection } from '../lib/connection';
import { errorMessage } from '../lib/format';
import { describeToken, forgetToken, loadSavedTokens, rememberToken, type SavedToken } from '../lib/saved-tokens';

const ProjectsQuery = graphql(`
  query Projects {
    projects {
      id
      slug
      name
    }
  }
`);

const CreateProject = graphql(`
  mutation CreateProject($input: ProjectInput!) {
    createProject(input: $input) {
      project {
        slug
        name
      }
      adminToken {
        secret
      }
    }
  }
`);

/** Switching signs in with the other token and starts the app again on its project. */
function switchTo(token: string) {
  saveToken(token);
  location.assign('/');
}

/** The projects of the tokens this browser holds (switch, add, forget) and, for the instance administrator, new projects. */
export function ProjectsPage() {
  const session = useConnection();
  const current = loadToken();
  const [saved, setSaved] = useState<SavedToken[]>(loadSavedTokens);
  // The token signed in with is always on the list.
  useEffect(() => {
    if (current)
      void describeToken(current).then(
        (e) => setSaved(rememberToken(e)),
        () => {},
      );
  }, [current]);
  return (
    <main>
      <h1>Projects</h1>
      <p className="muted">
        Signed in to {session.projectName}. Each token sees its own project only; add a token of another project to switch to it.
      </p>
      <ul className="panel" aria-label="Your projects">
        {saved.map((e) => (
          <li key={e.token}>
            <strong>{e.projectName}</strong> <span className="muted">({e.projectSlug})</span> · {e.tokenName} · {e.role.toLowerCase()}{' '}
            {e.token === current ? (
              <span className="badge">current</span>
            ) : (
              <>
                <button type="button" onClick={() => switchTo(e.token)}>
                  Switch to {e.projectName}
                </button>{' '}
                <button type="button" className="link" onClick={() => setSaved(forgetToken(e.token))}>
                  Forget
                </button>
              </>
            )}
          </li>
        ))}
      </ul>
      <AddToken onAdded={(e) => setSaved(rememberToken(e))} />
      <NewProject onCreated={(e) => setSaved(rememberToken(e))} />
    </main>
  );
}

function AddToken({ onAdded }: { onAdded: (e: SavedToken) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (ev: SyntheticEvent) => {
    ev.preventDefault();
    setError(null);
    try {
      onAdded(await describeToken(token.trim()));
      setToken('');
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form className="panel" aria-label="Add a token" onSubmit={(ev) => void submit(ev)}>
      <h2>Add a token</h2>
      <label>
        API token of another project <input type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} />
      </label>{' '}
      <button type="submit" disabled={!token.trim()}>
        Add token
      </button>
      <ErrorBox message={error} />
    </form>
  );
}

/** Only the instance administrator may list and create projects: for anyone else the query is FORBIDDEN and nothing shows. */
function NewProject({ onCreated }: { onCreated: (e: SavedToken) => void }) {
  const [{ data }, refetch] = useQuery({ query: ProjectsQuery });
  const [created, create] = useMutation(CreateProject);
  const [slug, setSlug] = useState('');
  const [name, setName] = useState('');
  const [secret, setSecret] = useState<{ token: string; name: string } | null>(null);
  if (!data) return null;
  const submit = async (ev: SyntheticEvent) => {
    ev.preventDefault();
    const res = await create({ input: { slug: slug.trim(), name: name.trim() } });
    if (!res.data) return;
    const token = res.data.createProject.adminToken.secret;
    setSecret({ token, name: res.data.createProject.project.name });
    onCreated(await describeToken(token));
    setSlug('');
    setName('');
    refetch({ requestPolicy: 'network-only' });
  };
  return (
    <form className="panel" aria-label="New project" onSubmit={(ev) => void submit(ev)}>
      <h2>New project</h2>
      <p className="muted">
        You are the instance administrator: {data.projects.length} projects. A new project gets the bundled templates and a first ADMIN
        token.
      </p>
      <label>
        Slug <input value={slug} onChange={(e) => setSlug(e.target.value)} />
      </label>{' '}
      <label>
        Name <input value={name} onChange={(e) => setName(e.target.value)} />
      </label>{' '}
      <button type="submit" disabled={created.fetching || !slug.trim() || !name.trim()}>
        Create project
      </button>
      <ErrorBox message={errorMessage(created.error)} />
      {secret && (
        <p className="notice" role="status">
          {secret.name}: its ADMIN token, shown once (kept in this browser too): <code data-testid="new-admin-token">{secret.token}</code>
        </p>
      )}
    </form>
  );
}
