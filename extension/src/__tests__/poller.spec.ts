import { DEFAULT_TIMING, IPollOutcome, nextDelay, Poller } from '../poller';

const quiet: IPollOutcome = { ok: true, changed: false, running: false };
const busy: IPollOutcome = { ok: true, changed: false, running: true };
const failed: IPollOutcome = { ok: false, changed: false, running: false };

describe('nextDelay', () => {
  it('polls fast while a run is running or data changes', () => {
    expect(nextDelay(8000, busy)).toBe(DEFAULT_TIMING.fast);
    expect(nextDelay(8000, { ok: true, changed: true, running: false })).toBe(DEFAULT_TIMING.fast);
  });

  it('backs off while nothing happens, up to idleMax', () => {
    let delay = DEFAULT_TIMING.fast;
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) {
      delay = nextDelay(delay, quiet);
      seen.push(delay);
    }
    expect(seen[0]).toBe(3000);
    expect(seen[1]).toBe(4500);
    expect(Math.max(...seen)).toBe(DEFAULT_TIMING.idleMax);
    expect(seen[seen.length - 1]).toBe(DEFAULT_TIMING.idleMax);
  });

  it('doubles after failures, up to errorMax', () => {
    let delay = DEFAULT_TIMING.fast;
    for (let i = 0; i < 20; i++) {
      delay = nextDelay(delay, failed);
    }
    expect(delay).toBe(DEFAULT_TIMING.errorMax);
    expect(nextDelay(2000, failed)).toBe(4000);
  });
});

describe('Poller', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const flush = async () => {
    for (let i = 0; i < 5; i++) {
      await Promise.resolve();
    }
  };

  it('polls again after the delay, and not while paused', async () => {
    let calls = 0;
    const poller = new Poller(async () => {
      calls++;
      return busy;
    });
    await poller.refresh();
    expect(calls).toBe(1);
    jest.advanceTimersByTime(DEFAULT_TIMING.fast);
    await flush();
    expect(calls).toBe(2);

    poller.pause();
    jest.advanceTimersByTime(60_000);
    await flush();
    expect(calls).toBe(2);

    await poller.resume();
    expect(calls).toBe(3);
    poller.dispose();
  });

  it('treats a throwing tick as a failure and backs off', async () => {
    const poller = new Poller(async () => {
      throw new Error('server down');
    });
    await poller.refresh();
    expect(poller.delay).toBe(2 * DEFAULT_TIMING.fast);
    poller.dispose();
  });

  it('stops for good when disposed', async () => {
    let calls = 0;
    const poller = new Poller(async () => {
      calls++;
      return quiet;
    });
    await poller.refresh();
    poller.dispose();
    jest.advanceTimersByTime(60_000);
    await flush();
    expect(calls).toBe(1);
  });
});
