import { useCallback, useEffect, useRef } from 'react';
import { useSubscription } from 'urql';
import { tokenFailure } from './auth';
import { useConnection } from './connection';
import { ProjectEventsSubscription } from './operations';

/** A stable function that calls the latest `fn` once, `ms` after the last call; cancelled on unmount. */
export function useDebounced(fn: () => void, ms: number): () => void {
  const latest = useRef(fn);
  useEffect(() => {
    latest.current = fn;
  });
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return useCallback(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => latest.current(), ms);
  }, [ms]);
}

/**
 * Calls `refetch` (debounced) whenever any job of the project changes state. Every event is looked
 * at as it arrives (a subscription handler), so a state change followed at once by other events is
 * not missed. Returns whether the live feed is failing.
 */
export function useRefetchOnStateChange(refetch: () => void, ms = 250): { paused: boolean } {
  const schedule = useDebounced(refetch, ms);
  const [{ error }] = useSubscription({ query: ProjectEventsSubscription }, (_prev: unknown, data) => {
    if (data.projectEvents.type === 'STATE_CHANGED') schedule();
    return data;
  });
  const { signOut } = useConnection();
  useEffect(() => {
    const why = error && tokenFailure(error.graphQLErrors.length ? error.graphQLErrors : error.networkError);
    if (why) signOut(why);
  }, [error, signOut]);
  return { paused: !!error };
}
