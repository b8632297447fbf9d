import { useState, type SubmitEvent } from 'react';
import { ErrorBox } from '../components/status';

/** Paste an API token; it is checked against the API before it is kept. */
export function SignIn({ onSignedIn, notice }: { onSignedIn: (token: string) => void; notice?: string | null }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(notice ?? null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: SubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token.trim()}` },
        body: JSON.stringify({ query: '{ viewer { role } }' }),
      });
      const body = (await res.json()) as { errors?: { message: string }[] };
      if (body.errors?.length) setError(body.errors.map((x) => x.message).join(' '));
      else onSignedIn(token.trim());
    } catch (err) {
      setError(`The server could not be reached (${(err as Error).message}).`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <h1>AutoDev</h1>
      <p>Crews of AI agents that plan, write and test code, as budgeted jobs a person reviews.</p>
      <form onSubmit={(e) => void submit(e)} className="panel">
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          autoFocus
          required
          value={token}
          onChange={(e) => setToken(e.target.value)}
          placeholder="Paste a token"
        />
        <p className="muted">
          <code>npm start</code> prints a link that signs you in, and keeps the admin token in <code>.data/admin-token</code>. An admin can
          create tokens for others (viewer, operator, reviewer, admin).
        </p>
        <ErrorBox message={error} />
        <button type="submit" disabled={busy || !token.trim()}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
