import type { Session } from '../session.js';

/** program.ts's `withSession`: wraps an action so it receives the opened Session first. */
export type WithSession = <A extends unknown[]>(fn: (session: Session, ...args: A) => Promise<void>) => (...args: A) => Promise<void>;
