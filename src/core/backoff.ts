import type { Clock } from './clock.js';

/** When a key of a LoginBackoff starts to back off. */
export interface BackoffRule {
  /** Failures within `windowMs` (counted from the first) after which the key backs off. */
  failures: number;
}

/** Settings of a LoginBackoff; times in milliseconds. */
export interface BackoffOptions {
  /** Failures older than this (from a key's first counted one) are forgotten. */
  windowMs: number;
  /** Longest wait one key can be given; the wait doubles from 1 s with each failure past its rule. */
  maxWaitMs: number;
  /** Keys remembered at most; the oldest go first (bounds memory under a spray of names). */
  maxKeys?: number;
}

interface Entry {
  failures: number;
  firstMs: number;
  untilMs: number;
}

/**
 * Failed-login backoff over several keys at once (issue #15 M4, L2): typically the user,
 * the client address, and the pair. Each key counts its failures within a window; once a
 * key passes its rule, every further failure doubles its wait (1 s, 2 s, 4 s … up to
 * `maxWaitMs`), and while any key of an attempt waits, the attempt is refused before any
 * password is hashed — so a flood of wrong passwords costs neither hashing time nor the
 * real users' logins. Keys are counted whether or not the user exists, so the answers do
 * not tell which names exist. Per process (a login throttle, not shared state): with
 * several servers an attacker gets each server's allowance.
 */
export class LoginBackoff {
  private readonly entries = new Map<string, Entry>();
  private readonly maxKeys: number;

  constructor(
    private readonly clock: Clock,
    private readonly options: BackoffOptions,
  ) {
    this.maxKeys = options.maxKeys ?? 100_000;
  }

  /** Milliseconds until an attempt with these keys may be checked; 0 = now. */
  waitMs(keys: readonly string[]): number {
    const now = this.clock.now();
    let wait = 0;
    for (const key of keys) {
      const e = this.live(key, now);
      if (e && e.untilMs > now) wait = Math.max(wait, e.untilMs - now);
    }
    return wait;
  }

  /** Counts a failed attempt on every key; a key past `rules[key]` waits longer each time. */
  fail(keys: readonly { key: string; rule: BackoffRule }[]): void {
    const now = this.clock.now();
    for (const { key, rule } of keys) {
      let e = this.live(key, now);
      if (!e) {
        if (this.entries.size >= this.maxKeys) this.entries.delete(this.entries.keys().next().value!);
        e = { failures: 0, firstMs: now, untilMs: 0 };
        this.entries.set(key, e);
      }
      e.failures++;
      const past = e.failures - rule.failures;
      if (past >= 0) e.untilMs = now + Math.min(this.options.maxWaitMs, 1000 * 2 ** Math.min(past, 30));
    }
  }

  /** Forgets keys after a success (the user's and the pair's; never the address's alone). */
  succeed(keys: readonly string[]): void {
    for (const key of keys) this.entries.delete(key);
  }

  private live(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    // The window runs from the first failure; a key still waiting is kept until its wait ends.
    if (now - e.firstMs > this.options.windowMs && e.untilMs <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }
}
