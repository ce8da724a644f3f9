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
  /** Attempts begun and not yet finished: they count against the allowance (a concurrent flood). */
  inFlight: number;
  firstMs: number;
  untilMs: number;
}

/**
 * A key of an attempt with its rule. `clearOnSuccess` marks the keys a success resets;
 * `countsInFlight` makes attempts still being checked count against the key's allowance.
 */
export interface AttemptKey {
  key: string;
  rule: BackoffRule;
  clearOnSuccess: boolean;
  countsInFlight: boolean;
}

/** An attempt let through by `LoginBackoff.begin`: report how it ended, once. */
export interface LoginAttempt {
  /** No key of it had a failure or another attempt in flight when it began (checked first under a flood). */
  clean: boolean;
  fail(): void;
  succeed(): void;
}

/**
 * Failed-login backoff over several keys at once (issue #15 M4, L2): typically the user,
 * the client address, and the pair. Each key counts its failures within a window; once a
 * key passes its rule, every further failure doubles its wait (1 s, 2 s, 4 s … up to
 * `maxWaitMs`), and while any key of an attempt waits, the attempt is refused before any
 * password is hashed — so a flood of wrong passwords costs neither hashing time nor the
 * real users' logins. On keys that say so (the address), attempts still being checked count
 * against the allowance, so a concurrent flood gets no more checks than a sequential one. Keys are counted whether or
 * not the user exists, so the answers do not tell which names exist. Per process (a login
 * throttle, not shared state): with several servers an attacker gets each server's allowance.
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

  /**
   * Starts an attempt: refused (`waitMs` > 0, milliseconds to wait) while a key waits or
   * while the attempts in flight use up a key's allowance; else the attempt to report on.
   */
  begin(keys: readonly AttemptKey[]): { waitMs: number } | LoginAttempt {
    const now = this.clock.now();
    let waitMs = 0;
    for (const { key, rule, countsInFlight } of keys) {
      const e = this.live(key, now);
      if (!e) continue;
      if (e.untilMs > now) waitMs = Math.max(waitMs, e.untilMs - now);
      else if (countsInFlight && e.inFlight > 0 && e.failures + e.inFlight >= rule.failures) waitMs = Math.max(waitMs, 1000);
    }
    if (waitMs > 0) return { waitMs };
    const clean = keys.every(({ key }) => {
      const e = this.live(key, now);
      return !e || (e.failures === 0 && e.inFlight === 0);
    });
    const entries = keys.map(({ key }) => this.entry(key, now));
    for (const e of entries) e.inFlight++;
    let done = false;
    return {
      clean,
      fail: () => {
        if (done) return;
        done = true;
        const at = this.clock.now();
        keys.forEach(({ rule }, i) => {
          const e = entries[i]!;
          e.inFlight--;
          e.failures++;
          const past = e.failures - rule.failures;
          if (past >= 0) e.untilMs = at + Math.min(this.options.maxWaitMs, 1000 * 2 ** Math.min(past, 30));
        });
      },
      succeed: () => {
        if (done) return;
        done = true;
        keys.forEach(({ key, clearOnSuccess }, i) => {
          entries[i]!.inFlight--;
          if (clearOnSuccess) this.entries.delete(key);
        });
      },
    };
  }

  private entry(key: string, now: number): Entry {
    let e = this.live(key, now);
    if (!e) {
      if (this.entries.size >= this.maxKeys) this.entries.delete(this.entries.keys().next().value!);
      e = { failures: 0, inFlight: 0, firstMs: now, untilMs: 0 };
      this.entries.set(key, e);
    }
    return e;
  }

  private live(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    // The window runs from the first failure; a key still waiting or checking is kept.
    if (now - e.firstMs > this.options.windowMs && e.untilMs <= now && e.inFlight === 0) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }
}

/** Failures after which each key of a login backs off (the `login` settings of config.ts). */
export interface LoginRules {
  /** Of one user, from any address. */
  userFailures: number;
  /** From one address, whatever the user. */
  addressFailures: number;
  /** Of one user from one address. */
  pairFailures: number;
}

/**
 * The keys of one login attempt: the user, the address, and the pair, each with its rule.
 * A success resets the user's and the pair's, never the address's (one account of one's own
 * must not reset a spray over other names); the address's also counts attempts in flight
 * (what bounds the hashing one client can cause).
 */
export function loginKeys(user: string, address: string, rules: LoginRules): AttemptKey[] {
  return [
    { key: `u\u0000${user}`, rule: { failures: rules.userFailures }, clearOnSuccess: true, countsInFlight: false },
    { key: `a\u0000${address}`, rule: { failures: rules.addressFailures }, clearOnSuccess: false, countsInFlight: true },
    { key: `p\u0000${user}\u0000${address}`, rule: { failures: rules.pairFailures }, clearOnSuccess: true, countsInFlight: false },
  ];
}

/** Seconds to put in Retry-After for a wait in milliseconds (at least 1). */
export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}

/**
 * Runs password checks a few at a time, those of clean attempts (LoginAttempt.clean) before
 * any other waiting one (issue #15 M4): under a flood of wrong passwords, whose checks queue
 * until the backoff refuses the rest, a real user's login waits for at most the checks
 * already running, not for the whole queue in libuv's thread pool.
 */
export class PasswordCheckGate {
  private running = 0;
  private readonly urgent: (() => void)[] = [];
  private readonly others: (() => void)[] = [];

  /** @param limit checks run at once (each one takes a thread of libuv's pool) */
  constructor(private readonly limit: number) {}

  /** Runs `check` when a slot is free, clean attempts first. @returns what `check` returns; its error rethrown */
  async run<T>(clean: boolean, check: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => (clean ? this.urgent : this.others).push(resolve));
    else this.running++;
    try {
      return await check();
    } finally {
      const next = this.urgent.shift() ?? this.others.shift();
      // The slot passes straight to the next waiter (running stays the same).
      if (next) next();
      else this.running--;
    }
  }
}
