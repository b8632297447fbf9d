import { print } from 'graphql';
import { useEffect, useState } from 'react';
import { useFragment, type FragmentType } from '../gql';
import type { JobEventFieldsFragment } from '../gql/graphql';
import { useConnection } from './connection';
import { JobEventFields, JobEventsSubscription } from './operations';

export type JobEvent = JobEventFieldsFragment;
export type StreamStatus = 'connecting' | 'live' | 'reconnecting';

const query = print(JobEventsSubscription);

/**
 * Every event of one job, in seq order, replayed from the server and then live. On a dropped
 * connection it resubscribes after the last seq it holds, and drops any event it already has, so a
 * reconnect or a reload loses nothing and doubles nothing. Updates are batched (at most ~20/s).
 */
export function useJobEvents(jobId: string): { events: JobEvent[]; status: StreamStatus } {
  const { ws } = useConnection();
  const [events, setEvents] = useState<JobEvent[]>([]);
  const [status, setStatus] = useState<StreamStatus>('connecting');

  useEffect(() => {
    let lastSeq = 0;
    let disposed = false;
    let unsubscribe = () => {};
    let retry: ReturnType<typeof setTimeout> | undefined;
    let flushTimer: ReturnType<typeof setTimeout> | undefined;
    const pending: JobEvent[] = [];
    setEvents([]);
    setStatus('connecting');

    const flush = () => {
      flushTimer = undefined;
      const batch = pending.splice(0);
      if (batch.length && !disposed) setEvents((prev) => prev.concat(batch));
    };
    const start = () => {
      unsubscribe = ws.subscribe<{ jobEvents: FragmentType<typeof JobEventFields> }>(
        { query, variables: { jobId, afterSeq: lastSeq } },
        {
          next: (result) => {
            if (!result.data) return;
            // eslint-disable-next-line react-hooks/rules-of-hooks -- a cast, not a hook
            const event = useFragment(JobEventFields, result.data.jobEvents);
            setStatus('live');
            if (event.seq <= lastSeq) return;
            lastSeq = event.seq;
            pending.push(event);
            flushTimer ??= setTimeout(flush, 50);
          },
          error: () => {
            if (disposed) return;
            setStatus('reconnecting');
            retry = setTimeout(start, 1000);
          },
          complete: () => {},
        },
      );
    };
    start();
    // The replay can be empty (a job with no events yet is impossible, but be safe): mark live once connected.
    const off = ws.on('connected', () => !disposed && setStatus('live'));
    const offClosed = ws.on('closed', () => !disposed && setStatus('reconnecting'));
    return () => {
      disposed = true;
      clearTimeout(retry);
      clearTimeout(flushTimer);
      off();
      offClosed();
      unsubscribe();
    };
  }, [jobId]);

  return { events, status };
}
