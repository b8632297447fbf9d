// readRetrying: what a stream's read of stored events does when it fails. A read the database does
// not answer (a cut connection: SQLSTATE 57P01) is tried again until it succeeds or the budget is
// spent, then fails with that error; any other failure, and a stream that closed, end at once.
import { describe, expect, it } from 'vitest';
import { readRetrying } from './read-retrying.ts';

const cut = () => Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL' });

/** A read that fails with `fail()` its first `failures` times, then answers 'rows'; counts its calls. */
function flakyRead(failures: number, fail: () => Error) {
  const read = () => {
    read.calls++;
    return read.calls <= failures ? Promise.reject(fail()) : Promise.resolve('rows');
  };
  read.calls = 0;
  return read;
}

describe('readRetrying', () => {
  it('answers once a read cut by a lost connection succeeds again', async () => {
    const read = flakyRead(3, cut);
    expect(await readRetrying(read, () => false)).toBe('rows');
    expect(read.calls).toBe(4);
  });

  it('gives up with the last error once its budget is spent, having waited about that long', async () => {
    const read = flakyRead(Infinity, cut);
    const started = Date.now();
    // A budget of 1.4 s: the fourth read comes after 100 + 200 + 400 ms of waits (at 0.7 s, or up to
    // 0.7 s late on a loaded machine), and the wait after it (800 ms) would pass the budget.
    await expect(readRetrying(read, () => false, 1400)).rejects.toMatchObject({ code: '57P01' });
    const ms = Date.now() - started;
    expect(ms).toBeGreaterThanOrEqual(650); // the waits' 700 ms, less a timer's early start against Date.now()
    expect(ms).toBeLessThan(5000);
    expect(read.calls).toBe(4);
  });

  it('does not retry another failure (a bad statement, a constraint)', async () => {
    const read = flakyRead(1, () => Object.assign(new Error('syntax error'), { code: '42601' }));
    await expect(readRetrying(read, () => false)).rejects.toThrow('syntax error');
    expect(read.calls).toBe(1);
  });

  it('stops once its stream closed', async () => {
    let closed = false;
    const read = flakyRead(Infinity, () => {
      closed = true;
      return cut();
    });
    await expect(readRetrying(read, () => closed)).rejects.toMatchObject({ code: '57P01' });
    expect(read.calls).toBe(1);
  });
});
