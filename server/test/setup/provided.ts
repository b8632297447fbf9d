/** A service the test run uses: its address, and how to stop it if this run started it. */
export interface Provided {
  url: string;
  stop(): Promise<void>;
  /** Synchronous, for a process that is exiting (Ctrl-C): nothing can be awaited there. */
  stopNow(): void;
}
