import type { Mutex } from './mutex.js';

/** The outcome of one item of a batch: a value, or the error to reject its caller with. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Group commit: callers `submit` items one by one; items that arrive within one turn of
 * the event loop are handed together to `commit` (which runs under `mutex`, normally as one
 * transaction), and each caller's promise settles with its own outcome only after that
 * commit. Turns N small transactions into one without delaying a lone write by more than
 * one loop turn.
 */
export class GroupCommit<Item, Result> {
  private queue: { item: Item; resolve: (r: Result) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;

  /**
   * @param mutex serialises the commit with every other write of the area
   * @param commit commits a batch; returns one outcome per item, in order
   * @param maxBatch most items per commit
   */
  constructor(
    private readonly mutex: Mutex,
    private readonly commit: (items: Item[]) => Promise<Settled<Result>[]>,
    private readonly maxBatch = 256,
  ) {}

  /** Queues `item`; resolves with its result once its batch is committed. */
  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate runs after the poll phase, so requests read in the same turn batch up.
    setImmediate(() => {
      this.scheduled = false;
      const batch = this.queue.splice(0, this.maxBatch);
      if (this.queue.length > 0) this.schedule();
      if (batch.length === 0) return;
      this.mutex
        .run(() => this.commit(batch.map((b) => b.item)))
        .then(
          (outcomes) => batch.forEach((b, i) => {
            const o = outcomes[i];
            if (o?.ok) b.resolve(o.value);
            else b.reject(o ? o.error : new Error('group commit returned too few outcomes'));
          }),
          (err: unknown) => batch.forEach((b) => b.reject(err)),
        );
    });
  }
}
