import { describe, expect, it } from 'vitest';
import { TERMINAL } from '../../client/src/lib/format.ts';
import { isTerminal, JOB_STATES } from './state-machine.ts';

describe("the web app's knowledge of the job lifecycle", () => {
  it('treats as final exactly the states the state machine ends in (it stops ticking and following them)', () => {
    expect([...TERMINAL].sort()).toEqual(JOB_STATES.filter(isTerminal).sort());
  });
});
