import { PassThrough } from 'node:stream';

/** Seconds between keep-alive comments of an event stream (proxies cut idle connections). */
const HEARTBEAT_SECONDS = 15;

/**
 * A Server-Sent Events stream (WHATWG HTML §9.2, `text/event-stream`) to send as a response
 * body: `send` writes one event whose `data` is a JSON value, a comment keeps the connection
 * alive every 15 s, and `signal` aborts when the client goes away (the stream is destroyed)
 * or `end()` was called.
 */
export class SseStream {
  readonly stream = new PassThrough();
  private readonly controller = new AbortController();
  private readonly heartbeat: NodeJS.Timeout;

  constructor() {
    this.heartbeat = setInterval(() => this.stream.write(': keep-alive\n\n'), HEARTBEAT_SECONDS * 1000);
    this.heartbeat.unref();
    this.stream.once('close', () => this.stop());
    // The first bytes go at once, so that the client sees the stream open.
    this.stream.write(': stream open\n\n');
  }

  /** Aborts when the client is gone or the stream ended. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Content-Type and other headers an event stream is answered with. */
  static readonly headers = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' };

  /** Writes one event (`event:` name, `data:` the JSON of `data`). */
  send(event: string, data: unknown): void {
    if (this.stream.writableEnded || this.stream.destroyed) return;
    this.stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Ends the stream (the response completes). */
  end(): void {
    this.stop();
    if (!this.stream.writableEnded) this.stream.end();
  }

  private stop(): void {
    clearInterval(this.heartbeat);
    if (!this.controller.signal.aborted) this.controller.abort();
  }
}
