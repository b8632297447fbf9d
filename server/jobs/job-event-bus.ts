import type { JobEventRecord } from './job-event.ts';

/**
 * The port through which jobs' committed events reach subscribers, in this process and others.
 * Declared here, where it is used (transitions, charges, reviews publish after commit); the
 * transport (in-memory or Redis) is `realtime/event-bus.ts`.
 */
export interface JobEventBus {
  publish(events: JobEventRecord[]): Promise<void>;
  onJob(jobId: string, handler: (e: JobEventRecord) => void): Promise<() => Promise<void>>;
  onProject(projectId: string, handler: (e: JobEventRecord) => void): Promise<() => Promise<void>>;
  /** After an outage of the transport: streams re-read what they may have missed. */
  onResync(listener: () => void): () => void;
}
