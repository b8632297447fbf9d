/**
 * Runs `fn` over `items` with at most `lanes` calls in flight, as a worker with `lanes` database
 * connections (or a benchmark's client with that concurrency) would; the results come back in the
 * order of `items`. A test that fires every call at once instead leaves most of them queued inside
 * its pg pool, where a loaded machine kept one waiting past the pool's connection timeout: a failure
 * of the test's own arrangement, not of the code.
 */
export async function inLanes<T, R>(items: readonly T[], lanes: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, lane));
  return results;
}
