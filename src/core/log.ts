import type { FastifyBaseLogger } from 'fastify';
import pino, { type LoggerOptions } from 'pino';

/** The logger every service takes: Fastify's pino logger or a child of it. */
export type Logger = FastifyBaseLogger;

/** Paths pino must never print: credentials in headers and bodies (STYLE.md §6). */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-auth-token"]',
  'req.headers["x-subject-token"]',
  '*.password',
  '*.currentPassword',
  '*.token',
  '*.secret',
  '*.sk',
  '*.ak',
];

/** pino options shared by the Fastify logger and standalone loggers. */
export function loggerOptions(level: string): LoggerOptions {
  return { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
}

/**
 * A logger that prints one readable line per entry (pino-pretty, synchronously, colours on)
 * for a terminal; redaction as loggerOptions. pino-pretty is loaded only here.
 */
export async function prettyLogger(level: string): Promise<Logger> {
  const { default: pretty } = await import('pino-pretty');
  return pino(loggerOptions(level), pretty({ sync: true, colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })) as unknown as Logger;
}

/** A standalone logger (for the CLI before the server exists). */
export function createLogger(level: string): Logger {
  return pino(loggerOptions(level));
}
