import { performance } from 'node:perf_hooks';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';

/** How often the guard looks at the event loop, milliseconds of real time. */
const PERIOD_MS = 250;

/**
 * Lease expiry must not run ahead of the heartbeats waiting to be read after a stall (issue #15,
 * Nacos #7336's lesson): a server stopped for 26 s (SIGSTOP, a frozen VM, a long GC) resumed,
 * ran its sweeper before reading a single pending heartbeat, and expired all 2,000 instances.
 * The guard notices a stall — its own real-time timer, or the sweeper's call, comes at least
 * `thresholdMs` late — and then holds expiry for as long as the stall lasted, in the clock's
 * time, so every lease gets back the time the server was not listening (as etcd extends its
 * leases after a leader change). Self-contained: whatever runs expiry asks `mayExpire()` first.
 */
export class StallGuard {
  private timer?: NodeJS.Timeout;
  private lastMs: number;
  private holdUntilMs = 0;

  /**
   * @param thresholdMs a gap at least this long (beyond the guard's own 250 ms period) is a
   *   stall; 0 turns the guard off
   * @param clock the clock leases are kept in (the hold is in its time)
   * @param monotonicNow real time in milliseconds (tests pass their own)
   */
  constructor(
    private readonly thresholdMs: number,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly monotonicNow: () => number = () => performance.now(),
  ) {
    this.lastMs = monotonicNow();
  }

  /** Starts watching the event loop (an unref'd real timer). */
  start(): void {
    if (this.thresholdMs === 0 || this.timer) return;
    this.lastMs = this.monotonicNow();
    this.timer = setInterval(() => this.observe(), PERIOD_MS);
    this.timer.unref();
  }

  /** Stops watching. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * True when leases may expire now; false while a stall's hold lasts. Call it before each
   * sweep: it also notices a stall its timer has not seen yet (the sweeper may run first).
   */
  mayExpire(): boolean {
    this.observe();
    return this.clock.now() >= this.holdUntilMs;
  }

  /** Notes the time; a gap past the threshold holds expiry for the length of the stall. */
  observe(): void {
    if (this.thresholdMs === 0) return;
    const now = this.monotonicNow();
    const stalledMs = now - this.lastMs - PERIOD_MS;
    this.lastMs = now;
    if (stalledMs < this.thresholdMs) return;
    this.holdUntilMs = Math.max(this.holdUntilMs, this.clock.now() + stalledMs);
    this.log.warn({ stalledMs: Math.round(stalledMs) }, 'event loop stalled: lease expiry held for as long');
  }
}
