import { EventEmitter } from 'node:events';

/**
 * In-process event bus. Services publish `<area>.<resource>.<past-verb>` events after a
 * change is committed; caches, watchers and job runners subscribe. Listeners run
 * synchronously in publish order; a throwing listener is reported through `onError`
 * and never breaks the publisher.
 */
export class Bus<Events extends Record<string, unknown>> {
  private readonly emitter = new EventEmitter({ captureRejections: false });

  /** @param onError called with a listener's exception (default: rethrown asynchronously). */
  constructor(private readonly onError: (err: unknown, event: string) => void = (err) => queueMicrotask(() => { throw err; })) {
    this.emitter.setMaxListeners(0);
  }

  /** Publishes `payload` under `event` to every current subscriber. */
  publish<K extends keyof Events & string>(event: K, payload: Events[K]): void {
    for (const listener of this.emitter.listeners(event)) {
      try {
        (listener as (p: Events[K]) => void)(payload);
      } catch (err) {
        this.onError(err, event);
      }
    }
  }

  /** Subscribes to `event`; returns the unsubscribe function. */
  subscribe<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): () => void {
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }
}
