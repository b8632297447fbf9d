import { EventEmitter } from 'node:events';

/** The transport under the event bus: in-memory for one process, Redis across processes. */
export interface PubSub {
  publish(channel: string, message: string): Promise<void>;
  /** Resolves once the subscription is active; returns the unsubscribe function. */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;
  /** Called after the transport was lost and is back: messages in between may be missing. */
  onResync(listener: () => void): () => void;
  close(): Promise<void>;
}

export function createMemoryPubSub(): PubSub {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish(channel, message) {
      emitter.emit(channel, message);
      return Promise.resolve();
    },
    subscribe(channel, onMessage) {
      emitter.on(channel, onMessage);
      return Promise.resolve(() => {
        emitter.off(channel, onMessage);
        return Promise.resolve();
      });
    },
    onResync: () => () => {}, // nothing is ever lost in memory
    close() {
      emitter.removeAllListeners();
      return Promise.resolve();
    },
  };
}
