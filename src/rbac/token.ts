import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';

/**
 * The engine RBAC token (servicecomb.md §2): a JWT signed with RS512, claims `account`,
 * `roles`, `iat` and `exp` (unix seconds). Time comes from the caller (the injectable
 * clock), never from the system clock.
 */

/** RSA modulus of a generated signing key. */
const MODULUS_BITS = 2048;

/** A fresh RSA key pair as PEM (PKCS#8 private, SPKI public), generated off the event loop. */
export function generateRsaPem(): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  return new Promise((resolve, reject) =>
    generateKeyPair(
      'rsa',
      { modulusLength: MODULUS_BITS, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } },
      (err, publicKeyPem, privateKeyPem) => (err ? reject(err) : resolve({ privateKeyPem, publicKeyPem })),
    ),
  );
}

/** Claims of a verified token. */
export interface TokenClaims {
  account: string;
  roles: string[];
  /** Unix seconds. */
  exp: number;
  /** The config center's tenant when a token carries one (servicecomb.md §3.1); ours do not. */
  domain?: string;
}

/** Why a token was refused. */
export type TokenFailure = 'expired' | 'invalid';

/** Signs and verifies tokens with one key pair. */
export class TokenSigner {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;

  /** @throws Error when a PEM text is not a key */
  constructor(privateKeyPem: string, publicKeyPem: string) {
    this.privateKey = createPrivateKey(privateKeyPem);
    this.publicKey = createPublicKey(publicKeyPem);
  }

  /**
   * Signs a token for `account` with `roles`.
   * @param nowMs issue time (ms since the epoch) @param lifetimeMs validity in milliseconds
   */
  sign(account: string, roles: string[], nowMs: number, lifetimeMs: number): Promise<string> {
    const iat = Math.floor(nowMs / 1000);
    return new SignJWT({ account, roles })
      .setProtectedHeader({ alg: 'RS512', typ: 'JWT' })
      .setIssuedAt(iat)
      .setExpirationTime(iat + Math.floor(lifetimeMs / 1000))
      .sign(this.privateKey);
  }

  /**
   * Verifies a token's signature, algorithm and expiry at `nowMs`, and the claim types.
   * @returns the claims, or the reason it was refused (never throws for a bad token)
   */
  async verify(token: string, nowMs: number): Promise<TokenClaims | TokenFailure> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.publicKey, { algorithms: ['RS512'], currentDate: new Date(nowMs), requiredClaims: ['exp'] }));
    } catch (err) {
      return err instanceof joseErrors.JWTExpired ? 'expired' : 'invalid';
    }
    const { account, roles, exp, domain } = payload;
    if (typeof account !== 'string' || account === '') return 'invalid';
    if (!Array.isArray(roles) || roles.length === 0 || roles.some((r) => typeof r !== 'string')) return 'invalid';
    return { account, roles: roles as string[], exp: exp as number, ...(typeof domain === 'string' && domain ? { domain } : {}) };
  }
}
