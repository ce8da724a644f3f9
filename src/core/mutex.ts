/**
 * A FIFO async mutex. `run(fn)` waits for every earlier `run` to settle, then runs `fn`.
 * Used to serialise a store commit with the in-memory index update that follows it, so
 * both happen in commit order.
 */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` exclusively; resolves or rejects with its result. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
