export const usd = (n: number | null | undefined): string =>
  n == null ? '—' : n >= 1 ? `$${n.toFixed(2)}` : n === 0 ? '$0' : `$${n.toFixed(4)}`;

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export const time = (iso: string): string =>
  new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
export const dateTime = (iso: string): string => new Date(iso).toLocaleString([], { dateStyle: 'short', timeStyle: 'medium' });

// The state machine's final states (server/jobs/state-machine.ts); server/jobs/web-app-states.test.ts fails when they differ.
export const TERMINAL = ['SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELLED', 'BUDGET_EXCEEDED'] as const;
export const isTerminal = (state: string) => (TERMINAL as readonly string[]).includes(state);

/** The server's message of a failed urql operation, without urql's "[GraphQL]" prefix. */
export function errorMessage(
  error: { graphQLErrors?: { message: string }[]; networkError?: Error; message: string } | undefined | null,
): string | null {
  if (!error) return null;
  if (error.graphQLErrors?.length) return error.graphQLErrors.map((e) => e.message).join(' ');
  if (error.networkError) return `The server could not be reached (${error.networkError.message}).`;
  return error.message;
}

export const errorCode = (error: { graphQLErrors?: { extensions?: Record<string, unknown> }[] } | undefined | null): string | undefined =>
  error?.graphQLErrors?.[0]?.extensions?.code as string | undefined;
