import { createCipheriv, createDecipheriv, randomBytes, scrypt, timingSafeEqual, createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as clusterSql from './cluster-sql.js';
import { ConfigError } from './config.js';
import type { Executor } from './db/kysely.js';

/**
 * Secrets at rest (engineering standards: hashed or encrypted, compared in constant time).
 * - Passwords: scrypt (N=2^15 by default, r=8, p=1, 32-byte key, 16-byte salt), stored as
 *   `scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>`.
 * - Secrets that must be read back (secret keys, signing keys): AES-256-GCM under a
 *   32-byte master key, stored as `v1:<iv b64>:<tag b64>:<ciphertext b64>`.
 * - Bearer tokens: only their SHA-256 is stored.
 */

const SCRYPT = { r: 8, p: 1, keyLen: 32, maxmem: 128 * 1024 * 1024 };

/**
 * Hashes a password with scrypt (async, runs on the thread pool).
 * @param log2N cost: N = 2^log2N (default 15; the cost is stored in the hash, so lowering
 *   it for tests does not affect verification of existing hashes)
 */
export async function hashPassword(password: string, log2N = 15): Promise<string> {
  const salt = randomBytes(16);
  const N = 2 ** log2N;
  const hash = await scryptAsync(password, salt, N, SCRYPT.r, SCRYPT.p, SCRYPT.keyLen);
  return `scrypt$${N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** True when `password` matches a `hashPassword` result; constant-time compare. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, saltB64, hashB64] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hashB64, 'base64');
  const actual = await scryptAsync(password, Buffer.from(saltB64, 'base64'), Number(n), Number(r), Number(p), expected.length);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function scryptAsync(password: string, salt: Buffer, N: number, r: number, p: number, keyLen: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, keyLen, { N, r, p, maxmem: SCRYPT.maxmem }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** Constant-time equality of two strings (false when lengths differ). */
export function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

/** Lower-case hex SHA-256 of a token, the form in which bearer tokens are stored. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Random URL-safe text of `bytes` random bytes. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Encrypts and decrypts secrets with the master key (AES-256-GCM). */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /**
   * The master key: `masterKey` (64 hex chars or base64 of 32 bytes) when given, else the
   * file `<dataDir>/master.key`, created with mode 0600 on first use. Replicas sharing one
   * PostgreSQL database must share the key (set `secrets.masterKey`).
   * @throws Error when a given key is not 32 bytes
   */
  static open(masterKey: string, dataDir: string): SecretBox {
    if (masterKey) return new SecretBox(decodeKey(masterKey));
    const file = join(dataDir, 'master.key');
    if (existsSync(file)) return new SecretBox(decodeKey(readFileSync(file, 'utf8').trim()));
    mkdirSync(dataDir, { recursive: true });
    const key = randomBytes(32);
    writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    return new SecretBox(key);
  }

  /** Encrypts UTF-8 text. */
  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `v1:${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${data.toString('base64')}`;
  }

  /** Decrypts an `encrypt` result. @throws Error when it was not made with this key */
  decrypt(sealed: string): string {
    const [v, iv, tag, data] = sealed.split(':');
    if (v !== 'v1' || !iv || !tag || data === undefined) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  }
}

const KEY_CHECK = 'master_key_check';
const KEY_CHECK_TEXT = 'openstage master key check';

/** What a server whose key differs from the database's must be told (it refuses to start). */
export const WRONG_MASTER_KEY =
  'this server\'s master key cannot open the secrets stored in the database (they were sealed with another key): every server sharing a database needs the same key — set secrets.masterKey (OPENSTAGE_MASTER_KEY) to the key of the first server (the 64 hex characters of its <dataDir>/master.key), or copy that file into this server\'s data directory';

/**
 * Makes sure `box` opens the database's secrets: the first server to start seals a known
 * text under its key in `core_settings`; every later start (of any server) must open it.
 * @throws ConfigError (WRONG_MASTER_KEY) when it cannot
 */
export async function checkMasterKey(db: Executor, box: SecretBox): Promise<void> {
  const sealed = await clusterSql.initSetting(db, KEY_CHECK, box.encrypt(KEY_CHECK_TEXT));
  let opened = '';
  try {
    opened = box.decrypt(sealed);
  } catch {
    /* another key */
  }
  if (opened !== KEY_CHECK_TEXT) throw new ConfigError(WRONG_MASTER_KEY);
}

function decodeKey(text: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) throw new Error('the master key must be 32 bytes (64 hex characters)');
  return key;
}
