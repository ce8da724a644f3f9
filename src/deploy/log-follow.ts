import { watch, type FSWatcher } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Clock } from '../core/clock.js';

/** Longest line passed on as one (a longer run without a newline is cut into pieces of this size), bytes. */
const MAX_LINE_BYTES = 64 * 1024;

/** Most bytes read from a file in one step (a log that grew by more is read in several). */
const READ_BYTES = 256 * 1024;

/**
 * Reads what is appended to a log file, line by line, from a byte offset: `tail -f` without
 * the process. A file that shrank (rotated, rewritten) is read again from its start; a file
 * that is gone yields nothing.
 */
export class FileTail {
  private partial = '';

  /** @param offset byte offset to start at (the file's size: only what is written from now on) */
  constructor(
    readonly path: string,
    private offset: number,
  ) {}

  /** A tail at the file's current end (0 when it does not exist yet). */
  static async atEnd(path: string): Promise<FileTail> {
    const size = await stat(path).then((s) => s.size, () => 0);
    return new FileTail(path, size);
  }

  /**
   * The last `lines` complete lines of a file (from its last 256 KiB) and a tail that goes on
   * right after them: nothing written meanwhile is lost or repeated.
   */
  static async lastLines(path: string, lines: number): Promise<{ lines: string[]; tail: FileTail }> {
    let handle;
    try {
      handle = await open(path, 'r');
    } catch {
      return { lines: [], tail: new FileTail(path, 0) };
    }
    try {
      const { size } = await handle.stat();
      const start = Math.max(0, size - READ_BYTES);
      const buffer = Buffer.alloc(size - start);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
      const text = buffer.subarray(0, bytesRead).toString('utf8');
      const end = text.lastIndexOf('\n');
      const complete = end < 0 ? '' : text.slice(0, end);
      // Bytes after the last newline are read again by the tail, with the rest of their line.
      const tail = new FileTail(path, start + Buffer.byteLength(text.slice(0, end + 1)));
      const all = complete === '' ? [] : complete.split('\n');
      if (start > 0) all.shift(); // cut in the middle
      return { lines: lines > 0 ? all.slice(-lines) : [], tail };
    } finally {
      await handle.close();
    }
  }

  /** The complete lines appended since the last read (a trailing partial line waits for its newline). */
  async read(): Promise<string[]> {
    let handle;
    try {
      handle = await open(this.path, 'r');
    } catch {
      return [];
    }
    try {
      const { size } = await handle.stat();
      if (size < this.offset) {
        this.offset = 0;
        this.partial = '';
      }
      const out: string[] = [];
      while (this.offset < size) {
        const length = Math.min(READ_BYTES, size - this.offset);
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        const text = this.partial + buffer.subarray(0, bytesRead).toString('utf8');
        const lines = text.split('\n');
        this.partial = lines.pop() ?? '';
        while (this.partial.length > MAX_LINE_BYTES) {
          lines.push(this.partial.slice(0, MAX_LINE_BYTES));
          this.partial = this.partial.slice(MAX_LINE_BYTES);
        }
        out.push(...lines);
      }
      return out;
    } finally {
      await handle.close();
    }
  }

  /** What is left without a newline (at the end of a follow). */
  rest(): string[] {
    const r = this.partial;
    this.partial = '';
    return r ? [r] : [];
  }
}

/**
 * Calls `onChange` when a file may have grown: on every inotify event for it (fs.watch) and,
 * as a fallback for file systems without events, every `pollMs` of the clock.
 * @returns a function that stops watching
 */
export function watchFile(path: string, clock: Clock, pollMs: number, onChange: () => void): () => void {
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(path, { persistent: false }, () => onChange());
    watcher.on('error', () => undefined);
  } catch {
    // not there yet, or no inotify: the poll does it
  }
  const cancel = clock.every(pollMs, onChange);
  return () => {
    watcher?.close();
    cancel();
  };
}

/**
 * Runs `step` once at a time, again when asked while it ran (coalesced): reads of a followed
 * file never overlap and never miss a change.
 */
export function serialized(step: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  const run = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await step();
      } while (again);
    })().finally(() => (running = undefined));
    return running;
  };
  return run;
}

/**
 * Ends every follow (log streams held open by clients) when the server stops: follows take
 * `signal`, and `close()` aborts it before the HTTP server waits for its requests.
 */
export class FollowHub {
  private readonly controller = new AbortController();

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  close(): void {
    this.controller.abort(new Error('the server is stopping'));
  }
}

