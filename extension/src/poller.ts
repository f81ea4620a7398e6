/**
 * When the runs panel asks the server again: soon while runs are running or data changes,
 * backing off while nothing happens or requests fail, paused while the panel is hidden.
 */

/** The poller's timing (milliseconds). */
export interface IPollTiming {
  /** the delay while something changes or a run is running */
  fast: number;
  /** the longest delay while nothing changes */
  idleMax: number;
  /** the longest delay after failures */
  errorMax: number;
  /** how much each quiet poll (or failure) stretches the delay */
  factor: number;
}

export const DEFAULT_TIMING: IPollTiming = {
  fast: 2000,
  idleMax: 10000,
  errorMax: 60000,
  factor: 1.5
};

/** What one poll saw. */
export interface IPollOutcome {
  ok: boolean;
  changed: boolean;
  running: boolean;
}

/** The delay before the next poll, given the last delay and what the last poll saw. */
export function nextDelay(last: number, outcome: IPollOutcome, timing = DEFAULT_TIMING): number {
  if (!outcome.ok) {
    return Math.min(Math.max(last, timing.fast) * 2, timing.errorMax);
  }
  if (outcome.changed || outcome.running) {
    return timing.fast;
  }
  return Math.min(Math.max(last, timing.fast) * timing.factor, timing.idleMax);
}

/**
 * Calls `tick` again and again with `nextDelay` between calls; `pause()` / `resume()`
 * follow the panel's visibility, `refresh()` polls now and resets the delay.
 */
export class Poller {
  constructor(
    private tick: () => Promise<IPollOutcome>,
    private timing: IPollTiming = DEFAULT_TIMING
  ) {
    this._delay = timing.fast;
  }

  /** The delay the poller will wait next (ms). */
  get delay(): number {
    return this._delay;
  }

  /** Whether polling is paused. */
  get paused(): boolean {
    return this._paused;
  }

  /** Poll now, then keep polling (unless paused). */
  async refresh(): Promise<void> {
    this._clear();
    this._delay = this.timing.fast;
    await this._run();
  }

  /** Stop polling until `resume()` (the panel was hidden). */
  pause(): void {
    this._paused = true;
    this._clear();
  }

  /** Poll now and keep polling (the panel is shown again). */
  resume(): Promise<void> {
    if (!this._paused && this._timer !== null) {
      return Promise.resolve();
    }
    this._paused = false;
    return this.refresh();
  }

  /** Stop for good. */
  dispose(): void {
    this._disposed = true;
    this._clear();
  }

  private async _run(): Promise<void> {
    if (this._disposed || this._inFlight) {
      return;
    }
    this._inFlight = true;
    let outcome: IPollOutcome;
    try {
      outcome = await this.tick();
    } catch (e) {
      outcome = { ok: false, changed: false, running: false };
    } finally {
      this._inFlight = false;
    }
    this._delay = nextDelay(this._delay, outcome, this.timing);
    this._schedule();
  }

  private _schedule(): void {
    this._clear();
    if (this._paused || this._disposed) {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      void this._run();
    }, this._delay);
  }

  private _clear(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _delay: number;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _paused = false;
  private _disposed = false;
  private _inFlight = false;
}
