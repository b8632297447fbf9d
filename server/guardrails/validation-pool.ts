import { Worker } from 'node:worker_threads';
import { AppError, badInput } from '../errors.ts';

/** What the validation thread (validation-worker.ts) is asked to check. */
export type ValidationRequest =
  | { op: 'template'; definition: unknown; runnerEnvAllow: readonly string[]; sandboxNetwork?: boolean }
  | { op: 'input'; schema: object; input: unknown }
  | { op: 'output'; schema: object; output: unknown };

/**
 * Runs users' JSON Schemas in one worker thread (validation-worker.ts), one call at a time, each
 * with a wall-clock limit: a call that passes it terminates the worker (a fresh one serves the
 * next call) and fails BAD_USER_INPUT. The worker is also replaced once its heap passes
 * `maxHeapBytes` (compiled validators it caches), which bounds their memory for real.
 */
export const VALIDATION = {
  /** AUTODEV_VALIDATION_TIMEOUT_MS (configureValidation sets it from the config). */
  timeoutMs: 2000,
  // The worker's LRU of compiled validators alone reached 235 MiB of heap over 2,000 heavy schemas.
  maxHeapBytes: 128 * 1024 * 1024,
  /** Calls waiting for the worker; one more is refused SERVICE_UNAVAILABLE rather than queued without end. */
  maxQueued: 1000,
};

/** How often the worker was replaced, for tests and the figures in RELIABILITY.md. */
export const validationStats = { started: 0, timedOut: 0, replacedForMemory: 0, peakHeapBytes: 0 };

export function configureValidation(opts: { timeoutMs: number }): void {
  VALIDATION.timeoutMs = opts.timeoutMs;
}

type Pending = { req: ValidationRequest; resolve: (v: unknown) => void; reject: (e: unknown) => void };
type Reply = { id: number; result?: unknown; error?: string; heapBytes: number };

let worker: Worker | null = null;
// `timer` is set once the worker is ready: its start (tsx, Ajv) is not the call's time.
let running: (Pending & { id: number; timer?: NodeJS.Timeout }) | null = null;
const ready = new WeakSet<Worker>();
const queue: Pending[] = [];
let nextId = 1;

function tooCostlyMessage(what: string): string {
  return `Validating against the template's schema took ${what}; simplify the schema (deeply nested anyOf/$ref, very large enum).`;
}

function tooSlowMessage(): string {
  const ms = VALIDATION.timeoutMs;
  return tooCostlyMessage(`longer than ${ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`}`);
}

function startWorker(): Worker {
  validationStats.started++;
  // The .mjs entry registers tsx in the thread: the same under `npm start`, vitest and Node 20 to 24.
  const w = new Worker(new URL('./validation-worker.mjs', import.meta.url), {
    // A runaway compile dies alone (ERR_WORKER_OUT_OF_MEMORY) instead of taking the server down.
    resourceLimits: { maxOldGenerationSizeMb: 1024 },
  });
  w.on('message', (reply: Reply | 'ready') => (reply === 'ready' ? started(w) : finish(w, reply)));
  w.on('error', (err) => fail(w, err));
  w.on('exit', (code) => fail(w, new Error(`the validation worker stopped (code ${code})`)));
  w.unref();
  return w;
}

/**
 * The worker has loaded its modules: the call waiting for it starts its clock now. On a loaded
 * machine the start alone can take longer than the limit, which failed the first call (and so the
 * server's start, which validates the bundled templates) as if the schema were too slow.
 */
function started(w: Worker): void {
  ready.add(w);
  if (w === worker && running && !running.timer) running.timer = limitCall(w, running.id);
}

function limitCall(w: Worker, id: number): NodeJS.Timeout {
  return setTimeout(() => {
    if (running?.id !== id) return;
    validationStats.timedOut++;
    const done = running;
    running = null;
    retire(w);
    done.reject(badInput(tooSlowMessage(), { field: 'input' }));
    next();
  }, VALIDATION.timeoutMs);
}

function retire(w: Worker): void {
  if (worker === w) worker = null;
  w.removeAllListeners();
  w.on('error', () => {});
  void w.terminate();
}

function finish(w: Worker, reply: Reply): void {
  if (w !== worker || !running || running.id !== reply.id) return;
  const done = running;
  running = null;
  clearTimeout(done.timer);
  validationStats.peakHeapBytes = Math.max(validationStats.peakHeapBytes, reply.heapBytes);
  if (reply.heapBytes > VALIDATION.maxHeapBytes) {
    validationStats.replacedForMemory++;
    retire(w);
  }
  if (reply.error !== undefined) done.reject(new Error(reply.error));
  else done.resolve(reply.result);
  next();
}

function fail(w: Worker, err: unknown): void {
  if (w !== worker) return;
  retire(w);
  const done = running;
  running = null;
  if (done) {
    clearTimeout(done.timer);
    const outOfMemory = (err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
    done.reject(outOfMemory ? badInput(tooCostlyMessage('more memory than allowed'), { field: 'input' }) : err);
  }
  next();
}

function next(): void {
  if (running) return;
  const job = queue.shift();
  if (!job) {
    worker?.unref();
    return;
  }
  worker ??= startWorker();
  worker.ref();
  const w = worker;
  const id = nextId++;
  running = { ...job, id, timer: ready.has(w) ? limitCall(w, id) : undefined };
  w.postMessage({ id, req: job.req });
}

/** Runs one validation in the worker; rejects with a BAD_USER_INPUT AppError when it takes too long. */
export function validateOffThread<T>(req: ValidationRequest): Promise<T> {
  if (queue.length >= VALIDATION.maxQueued) {
    return Promise.reject(new AppError('SERVICE_UNAVAILABLE', 'The server is busy validating other requests; try again in a moment.'));
  }
  return new Promise<T>((resolve, reject) => {
    // The reply comes from our own worker running the operation `req` names.
    queue.push({ req, resolve: (v) => resolve(v as T), reject });
    next();
  });
}

/**
 * Stops the worker (app shutdown): the call it was running is answered SERVICE_UNAVAILABLE rather
 * than left pending; queued calls (another app in the same process) get a fresh worker.
 */
export function stopValidationWorker(): Promise<void> {
  const w = worker;
  if (w) fail(w, new AppError('SERVICE_UNAVAILABLE', 'The server is shutting down; try again in a moment.'));
  return Promise.resolve();
}
