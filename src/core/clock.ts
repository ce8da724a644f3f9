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
  /**
   * Calls `fn()` once, `ms` milliseconds of this clock's time from now. The system clock
   * uses a real timer (kept referenced: whoever is waiting holds the process); the fake
   * clock calls `fn` from `advance()`. Returns a function that cancels the timer.
   */
  after(ms: number, fn: () => void): () => void;
}

/** The real clock: `Date.now()` and unref'd intervals. */
export const systemClock: Clock = {
  now: () => Date.now(),
  every(periodMs, listener) {
    const timer = setInterval(() => listener(Date.now()), periodMs);
    timer.unref();
    return () => clearInterval(timer);
  },
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

/**
 * A clock that only moves when told to. `advance(ms)` moves time forward and then runs
 * every periodic listener whose period has elapsed, in registration order.
 */
export class FakeClock implements Clock {
  private nowMs: number;
  private readonly listeners = new Set<{ periodMs: number; nextMs: number; listener: (nowMs: number) => void }>();
  private readonly timers = new Set<{ dueMs: number; fn: () => void }>();

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

  after(ms: number, fn: () => void): () => void {
    const entry = { dueMs: this.nowMs + Math.max(0, ms), fn };
    this.timers.add(entry);
    return () => this.timers.delete(entry);
  }

  /** Number of one-shot timers not yet fired or cancelled (leak checks in tests). */
  pendingTimers(): number {
    return this.timers.size;
  }

  /**
   * Moves time forward by `ms` milliseconds, then fires due one-shot timers (earliest
   * first) and due periodic listeners once each.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError('FakeClock.advance needs a non-negative number of milliseconds');
    this.nowMs += ms;
    const due = [...this.timers].filter((t) => t.dueMs <= this.nowMs).sort((a, b) => a.dueMs - b.dueMs);
    for (const t of due) {
      if (!this.timers.delete(t)) continue;
      t.fn();
    }
    for (const entry of [...this.listeners]) {
      if (entry.nextMs <= this.nowMs) {
        entry.nextMs = this.nowMs + entry.periodMs;
        entry.listener(this.nowMs);
      }
    }
  }
}
