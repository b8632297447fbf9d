import type { JobEventRecord } from '../jobs/job-event.ts';
import type { PubSub } from './pubsub.ts';

const jobChannel = (jobId: string) => `autodev:job:${jobId}`;
const projectChannel = (projectId: string) => `autodev:project:${projectId}`;

/** Publishes committed job events and lets subscribers listen per job or per project. */
export interface EventBus {
  publish(events: JobEventRecord[]): Promise<void>;
  onJob(jobId: string, handler: (e: JobEventRecord) => void): Promise<() => Promise<void>>;
  onProject(projectId: string, handler: (e: JobEventRecord) => void): Promise<() => Promise<void>>;
}

export function createEventBus(pubsub: PubSub, onError: (err: unknown) => void = () => {}): EventBus {
  const listen = (channel: string, handler: (e: JobEventRecord) => void) =>
    pubsub.subscribe(channel, (message) => handler(JSON.parse(message) as JobEventRecord));
  return {
    async publish(events) {
      for (const e of events) {
        const message = JSON.stringify(e);
        // A failed publish loses nothing: the event is committed, and subscribers fill gaps from the table.
        await Promise.all([pubsub.publish(jobChannel(e.jobId), message), pubsub.publish(projectChannel(e.projectId), message)]).catch(onError);
      }
    },
    onJob: (jobId, handler) => listen(jobChannel(jobId), handler),
    onProject: (projectId, handler) => listen(projectChannel(projectId), handler),
  };
}
