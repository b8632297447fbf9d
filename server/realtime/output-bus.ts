// Live model text: the runner's coalesced text_delta events, carried from the worker to every API
// process over the same pub/sub as job events, on a channel of their own, and never stored (the
// step's complete text is, as a MESSAGE job event).
import type { PubSub } from './pubsub.ts';

export interface OutputDelta {
  jobId: string;
  attemptNumber: number;
  task: string;
  agent: string | null;
  /** The model step within the task, and the characters of its text before this delta. */
  step: number;
  offset: number;
  text: string;
  /** When the worker published it (ms since the epoch): delivery latency. */
  at: number;
}

export interface OutputBus {
  publish(delta: OutputDelta): Promise<void>;
  onJob(jobId: string, handler: (delta: OutputDelta) => void): Promise<() => Promise<void>>;
}

const channel = (jobId: string) => `autodev:output:${jobId}`;

export function createOutputBus(pubsub: PubSub, onError: (err: unknown) => void = () => {}): OutputBus {
  return {
    // A lost delta loses nothing for good: the step's message follows it, stored.
    publish: (delta) => pubsub.publish(channel(delta.jobId), JSON.stringify(delta)).catch(onError),
    onJob: (jobId, handler) => pubsub.subscribe(channel(jobId), (message) => handler(JSON.parse(message) as OutputDelta)),
  };
}
