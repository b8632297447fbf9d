import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { Provider, useQuery } from 'urql';
import { ErrorBox, Loading } from './components/status';
import { clearToken, loadToken, saveToken } from './lib/auth';
import { connect } from './lib/client';
import { ConnectionContext, useConnection, type Session } from './lib/connection';
import { errorCode, errorMessage } from './lib/format';
import { ViewerQuery } from './lib/operations';
import { Link, usePath } from './lib/router';
import { BudgetsPage } from './pages/budgets';
import { CrewMonitorPage } from './pages/crew-monitor';
import { InputsPage } from './pages/inputs';
import { JobsPage } from './pages/jobs';
import { ProjectsPage } from './pages/projects';
import { ReviewsPage } from './pages/reviews';
import { SignIn } from './pages/sign-in';
import { TemplatesPage } from './pages/templates';
import { WebhooksPage } from './pages/webhooks';

// The generated form (react-jsonschema-form + ajv) is most of the bundle: load it when it is needed.
const LaunchPage = lazy(() => import('./pages/launch').then((m) => ({ default: m.LaunchPage })));
const SchedulesPage = lazy(() => import('./pages/schedules').then((m) => ({ default: m.SchedulesPage })));

export function App() {
  const [token, setToken] = useState(loadToken);
  const [notice, setNotice] = useState<string | null>(null);
  const connection = useMemo(() => (token ? connect(token) : null), [token]);
  useEffect(() => () => void connection?.ws.dispose(), [connection]);

  // Stable, so the effects that call it (on a refused token) need not run again on every render.
  const signOut = useCallback((why?: string) => {
    clearToken();
    setNotice(why ?? null);
    setToken(null);
  }, []);
  if (!connection) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(t) => {
          saveToken(t);
          setNotice(null);
          setToken(t);
        }}
      />
    );
  }
  return (
    <Provider value={connection.urql}>
      <SignedIn connection={connection} signOut={signOut} />
    </Provider>
  );
}

function SignedIn({ connection, signOut }: { connection: ReturnType<typeof connect>; signOut: (why?: string) => void }) {
  const [{ data, error }] = useQuery({ query: ViewerQuery });
  useEffect(() => {
    if (errorCode(error) === 'UNAUTHENTICATED') signOut(errorMessage(error) ?? 'Your token is no longer valid.');
  }, [error, signOut]);
  if (error && !data) return <ErrorBox message={errorMessage(error)} onRetry={() => location.reload()} />;
  if (!data) return <Loading what="your account" />;
  const session: Session = {
    ...connection,
    role: data.viewer.role,
    tokenName: data.viewer.tokenName,
    projectName: data.viewer.project.name,
    signOut,
  };
  return (
    <ConnectionContext.Provider value={session}>
      <Shell />
    </ConnectionContext.Provider>
  );
}

function Shell() {
  const path = usePath();
  const pathname = path.split('?')[0];
  const { role, tokenName, projectName, signOut } = useConnection();
  const nav: [string, string][] = [
    ['/', 'Jobs'],
    ['/templates', 'New job'],
    ['/inputs', 'Inputs'],
    ['/reviews', 'Reviews'],
    ['/budgets', 'Budgets'],
    ['/schedules', 'Schedules'],
    ['/projects', 'Projects'],
    ['/webhooks', 'Webhooks'],
  ];
  const active = (to: string) => (to === '/' ? pathname === '/' || pathname.startsWith('/jobs') : pathname.startsWith(to));
  return (
    <>
      <header className="top">
        <strong className="brand">AutoDev</strong>
        <nav aria-label="Main">
          {nav.map(([to, label]) => (
            <Link key={to} to={to} aria-current={active(to) ? 'page' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <span className="who">
          {projectName} · {tokenName} ·{' '}
          <span className="badge" data-role={role}>
            {role.toLowerCase()}
          </span>{' '}
          <button type="button" className="link" onClick={() => signOut()}>
            Sign out
          </button>
        </span>
      </header>
      <Route pathname={pathname} />
    </>
  );
}

function Route({ pathname }: { pathname: string }) {
  let m: RegExpExecArray | null;
  if (pathname === '/') return <JobsPage />;
  if (pathname === '/templates') return <TemplatesPage />;
  if ((m = /^\/templates\/([^/]+)$/.exec(pathname)))
    return (
      <Suspense fallback={<Loading what="the form" />}>
        <LaunchPage slug={decodeURIComponent(m[1])} />
      </Suspense>
    );
  if ((m = /^\/jobs\/([^/]+)$/.exec(pathname))) return <CrewMonitorPage id={m[1]} key={m[1]} />;
  if (pathname === '/inputs') return <InputsPage />;
  if (pathname === '/reviews') return <ReviewsPage />;
  if (pathname === '/budgets') return <BudgetsPage />;
  if (pathname === '/projects') return <ProjectsPage />;
  if (pathname === '/schedules')
    return (
      <Suspense fallback={<Loading what="schedules" />}>
        <SchedulesPage />
      </Suspense>
    );
  if (pathname === '/webhooks') return <WebhooksPage />;
  return (
    <main>
      <h1>Not found</h1>
      <p>
        There is no page at <code>{pathname}</code>. <Link to="/">Go to the jobs.</Link>
      </p>
    </main>
  );
}
