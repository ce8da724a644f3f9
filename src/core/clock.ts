/**
 * Injectable time source. Every area reads time through a Clock so that lease and
 * timeout tests move time instead of sleeping (DESIGN.md, "src/core").
 */
export interface Clock {
  /** Current time in milliseconds since the Unix epoch. */
  now(): number;
  /**
   * Calls `listener(nowMs)` roughly every `periodMs` milliseconds of this clock's time.
   * The system clock uses a real (unref'd) timer; the fake clock calls listeners
   * synchronously from `advance()`. Returns a function that cancels the subscription.
   */
  every(periodMs: number, listener: (nowMs: number) => void): () => void;
}

/** The real clock: `Date.now()` and unref'd intervals. */
export const systemClock: Clock = {
  now: () => Date.now(),
  every(periodMs, listener) {
    const timer = setInterval(() => listener(Date.now()), periodMs);
    timer.unref();
    return () => clearInterval(timer);
  },
};

/**
 * A clock that only moves when told to. `advance(ms)` moves time forward and then runs
 * every periodic listener whose period has elapsed, in registration order.
 */
export class FakeClock implements Clock {
  private nowMs: number;
  private readonly listeners = new Set<{ periodMs: number; nextMs: number; listener: (nowMs: number) => void }>();

  /** @param startMs initial time, milliseconds since the epoch (default: real now). */
  constructor(startMs: number = Date.now()) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  every(periodMs: number, listener: (nowMs: number) => void): () => void {
    const entry = { periodMs, nextMs: this.nowMs + periodMs, listener };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  /** Moves time forward by `ms` milliseconds and fires due periodic listeners once each. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError('FakeClock.advance needs a non-negative number of milliseconds');
    this.nowMs += ms;
    for (const entry of [...this.listeners]) {
      if (entry.nextMs <= this.nowMs) {
        entry.nextMs = this.nowMs + entry.periodMs;
        entry.listener(this.nowMs);
      }
    }
  }
}
