import v8 from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { outputSchemaResult } from './check-output.ts';
import { validateJobInput } from './validate-input.ts';
import { validateTemplateDefinition } from './validate-template.ts';
import type { ValidationRequest } from './validation-pool.ts';

/**
 * The thread that compiles and runs users' JSON Schemas (validation-pool.ts starts it): a schema
 * that takes seconds (nested anyOf/$ref, a huge enum) then blocks this thread, never the server's
 * event loop, and the pool can terminate it. Each answer carries this thread's heap, so the pool
 * replaces it when its compiled-validator cache grows too large.
 */

function run(req: ValidationRequest): unknown {
  switch (req.op) {
    case 'template':
      return validateTemplateDefinition(req.definition, { runnerEnvAllow: req.runnerEnvAllow, sandboxNetwork: req.sandboxNetwork });
    case 'input':
      return validateJobInput(req.schema, req.input);
    case 'output':
      return outputSchemaResult(req.schema, req.output);
  }
}

parentPort!.on('message', ({ id, req }: { id: number; req: ValidationRequest }) => {
  let reply: { id: number; result?: unknown; error?: string; heapBytes: number };
  try {
    reply = { id, result: run(req), heapBytes: 0 };
  } catch (err) {
    reply = { id, error: (err as Error).message, heapBytes: 0 };
  }
  reply.heapBytes = v8.getHeapStatistics().used_heap_size;
  parentPort!.postMessage(reply);
});

// Calls are timed from here: the pool does not count this thread's start against the first one.
parentPort!.postMessage('ready');
