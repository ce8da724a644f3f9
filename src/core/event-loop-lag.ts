import { performance } from 'node:perf_hooks';

/** How often the loop is sampled, milliseconds. */
const SAMPLE_MS = 20;

/** A lag seen once counts half as much after this long, milliseconds. */
const HALF_LIFE_MS = 250;

/**
 * How late the event loop runs, in milliseconds of real time, for load shedding (issue #15):
 * a timer every 20 ms notes how late it fired, and the figure is the larger of that lateness
 * (fading with a 250 ms half-life, so one GC pause does not shed for long) and how overdue the
 * next sample is right now (a loop busy with a burst of requests has not run the timer yet).
 * Real time on purpose: the injectable clock says nothing about the loop.
 */
export class EventLoopLag {
  private timer?: NodeJS.Timeout;
  private lastTickMs = 0;
  private lagMs = 0;
  private lagAtMs = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Starts sampling (an unref'd timer). */
  start(): void {
    if (this.timer) return;
    this.lastTickMs = this.now();
    this.timer = setInterval(() => this.tick(), SAMPLE_MS);
    this.timer.unref();
  }

  /** Stops sampling. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Notes a sample; called by the timer (and by tests with their own time). */
  tick(): void {
    const at = this.now();
    const late = Math.max(0, at - this.lastTickMs - SAMPLE_MS);
    this.lastTickMs = at;
    if (late >= this.faded(at)) {
      this.lagMs = late;
      this.lagAtMs = at;
    }
  }

  /** The current lag in milliseconds (0 when the loop keeps time; 0 before `start`). */
  currentMs(): number {
    if (!this.timer && this.lastTickMs === 0) return 0;
    const at = this.now();
    return Math.max(this.faded(at), at - this.lastTickMs - SAMPLE_MS);
  }

  private faded(at: number): number {
    return this.lagMs * 0.5 ** ((at - this.lagAtMs) / HALF_LIFE_MS);
  }
}
