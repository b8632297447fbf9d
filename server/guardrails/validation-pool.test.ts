import { afterAll, describe, expect, it } from 'vitest';
import { stopValidationWorker, validateOffThread, validationStats } from './validation-pool.ts';
import type { InputValidation } from './validate-input.ts';

const MiB = 1024 * 1024;

afterAll(() => stopValidationWorker());

describe('the validation worker', () => {
  it('validates in the worker thread with the same answers as in process', async () => {
    expect(await validateOffThread<InputValidation>({ op: 'input', schema: { type: 'string' }, input: 'x' })).toEqual({ ok: true });
    expect(await validateOffThread<InputValidation>({ op: 'input', schema: { type: 'string' }, input: 3 })).toMatchObject({
      ok: false,
      message: 'Job input is invalid: `(root)` must be a string.',
    });
  });

  it('is replaced when its heap passes the bound, so 2,000 distinct schemas leave the main process RSS bounded', { timeout: 240_000 }, async () => {
    const replacedBefore = validationStats.replacedForMemory;
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    const started = performance.now();
    for (let i = 0; i < 2000 && performance.now() - started < 200_000; i++) {
      // Each schema distinct (so nothing is shared in the cache) and heavy to compile (a 900-repeat pattern).
      const schema = { type: 'object', properties: { [`f${i}`]: { type: 'string', pattern: `^x{${400 + (i % 500)}}$` }, n: { const: i } } };
      const r = await validateOffThread<InputValidation>({ op: 'input', schema, input: { [`f${i}`]: 'y', n: i } });
      expect(r.ok).toBe(false);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`2,000 schemas in ${seconds.toFixed(1)} s; worker replaced ${validationStats.replacedForMemory - replacedBefore}×; worker heap peak ${(validationStats.peakHeapBytes / MiB).toFixed(0)} MiB; main RSS ${(rssBefore / MiB).toFixed(0)} → peak ${(peakRss / MiB).toFixed(0)} MiB`);
    expect(validationStats.replacedForMemory - replacedBefore).toBeGreaterThanOrEqual(1);
    // The worker's heap is bounded by maxHeapBytes (128 MiB) plus what one call adds; its RSS counts in the process's.
    expect(peakRss - rssBefore).toBeLessThan(200 * MiB); // measured 133 MiB (241 MiB when the worker was never replaced)
  });
});
