/**
 * Nesting bounds for request bodies, checked by a linear scan before any parser runs
 * (issue #15 H2, M1). `JSON.parse` of a 12 MB `[[[…]]]` body held the event loop for
 * seconds, the recursive walks after it overflowed the stack, and the `yaml` package's
 * composer recurses per level (1,000 flow levels abort the process with an out-of-memory
 * error in V8's regexp compiler; ~1,000 block levels overflow the stack). No body any API
 * accepts nests anywhere near these bounds.
 */

/** Deepest JSON nesting (arrays and objects) a request body may have. */
export const MAX_JSON_DEPTH = 64;

/** Deepest YAML nesting a request body may have: flow collections plus block levels. */
export const MAX_YAML_DEPTH = 64;

const OPEN_SQUARE = 0x5b;
const OPEN_CURLY = 0x7b;
const CLOSE_SQUARE = 0x5d;
const CLOSE_CURLY = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The nesting check of JSON text fed in pieces as it arrives (a request body chunk by chunk):
 * one pass over the bytes, strings skipped, state kept between chunks. It never throws, and
 * text that is not JSON gets whatever answer its brackets give (the parser refuses it
 * afterwards).
 */
export class JsonDepthScanner {
  private depth = 0;
  private inString = false;
  /** The previous chunk ended inside a string on a backslash: the next unit is escaped. */
  private escaped = false;

  constructor(private readonly maxDepth = MAX_JSON_DEPTH) {}

  /** Scans the next piece (bytes or UTF-16 units). @returns true once the nesting went deeper than maxDepth */
  feed(text: Buffer | string): boolean {
    const isBuffer = typeof text !== 'string';
    const length = text.length;
    let depth = this.depth;
    let inString = this.inString;
    let i = 0;
    if (this.escaped && length > 0) {
      this.escaped = false;
      i = 1;
    }
    for (; i < length; i++) {
      const c = isBuffer ? (text as Buffer)[i]! : (text as string).charCodeAt(i);
      if (inString) {
        if (c === BACKSLASH) {
          if (i + 1 === length) this.escaped = true;
          i++;
        } else if (c === QUOTE) inString = false;
      } else if (c === QUOTE) inString = true;
      else if (c === OPEN_SQUARE || c === OPEN_CURLY) {
        if (++depth > this.maxDepth) {
          this.depth = depth;
          return true;
        }
      } else if (c === CLOSE_SQUARE || c === CLOSE_CURLY) depth--;
    }
    this.depth = depth;
    this.inString = inString;
    return false;
  }
}

/** True when JSON text nests arrays and objects deeper than `maxDepth` (JsonDepthScanner over the whole text). */
export function jsonNestsDeeperThan(text: Buffer | string, maxDepth = MAX_JSON_DEPTH): boolean {
  return new JsonDepthScanner(maxDepth).feed(text);
}

/**
 * `JSON.parse` after the nesting check. @throws NestingError when deeper than `maxDepth`;
 * SyntaxError when not JSON
 */
export function parseJsonBounded(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (jsonNestsDeeperThan(text, maxDepth)) throw new NestingError(`the body nests deeper than ${maxDepth} levels`);
  return JSON.parse(text);
}

/**
 * An upper bound of the nesting of YAML text, compared with `maxDepth`: on each line, the
 * indentation column plus the block indicators that open a level (`- `, `? `, `: ` at the
 * start of the content), plus the flow collections (`[`, `{`) open at that point. Quoted
 * scalars and comments are skipped. It over-counts (two spaces of indentation count two
 * levels) and so refuses some documents that nest less deeply; real configuration files
 * stay far below it.
 */
export function yamlNestsDeeperThan(text: string, maxDepth = MAX_YAML_DEPTH): boolean {
  let flow = 0;
  let quote = '';
  let lineStart = true;
  let column = 0;
  let block = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\n') {
      lineStart = true;
      column = 0;
      block = 0;
      continue;
    }
    if (quote) {
      if (quote === '"' && ch === '\\') i++;
      else if (ch === quote) {
        if (quote === "'" && text[i + 1] === "'") i++;
        else quote = '';
      }
      continue;
    }
    if (lineStart) {
      if (ch === ' ') {
        column++;
        continue;
      }
      if ((ch === '-' || ch === '?' || ch === ':') && (text[i + 1] === ' ' || text[i + 1] === undefined || text[i + 1] === '\n')) {
        block++;
        if (text[i + 1] === ' ') i++;
        continue;
      }
      lineStart = false;
      if (column / 2 + block + flow > maxDepth) return true;
      if (ch === '"' || ch === "'") {
        quote = ch;
        continue;
      }
    }
    if (ch === '#' && (i === 0 || text[i - 1] === ' ' || text[i - 1] === '\t')) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else if ((ch === '"' || ch === "'") && (i === 0 || ' \t[{,:-?\n'.includes(text[i - 1]!))) quote = ch;
    else if (ch === '[' || ch === '{') {
      if (column / 2 + block + ++flow > maxDepth) return true;
    } else if (ch === ']' || ch === '}') flow = Math.max(0, flow - 1);
  }
  return lineStart && column / 2 + block + flow > maxDepth;
}

/** A body nesting deeper than the bound; areas answer it as their invalid-parameter error. */
export class NestingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NestingError';
  }
}
