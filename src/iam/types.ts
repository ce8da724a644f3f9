/** IAM domain types (servicestage.md §1 "Token auth", "AK/SK auth"). Times in milliseconds. */

export interface User {
  id: string;
  name: string;
  domainId: string;
  domainName: string;
  createdAtMs: number;
}

export interface Project {
  id: string;
  name: string;
  domainId: string;
  createdAtMs: number;
}

/** An access key; the secret is never part of this shape. */
export interface AccessKey {
  accessKey: string;
  userId: string;
  status: 'active' | 'inactive';
  createdAtMs: number;
}

/** Who is calling, as established by a token or an AK/SK signature. */
export interface Principal {
  method: 'token' | 'aksk' | 'none';
  userId: string;
  userName: string;
  domainId: string;
  domainName: string;
  /** Projects the caller may act in (a token: only its scoped project). */
  projectIds: ReadonlySet<string>;
}

/** A stored token (the token text itself is never stored, only its SHA-256). */
export interface TokenRecord {
  digest: string;
  userId: string;
  /** Scoped project, or '' for a domain-scoped token. */
  projectId: string;
  issuedAtMs: number;
  expiresAtMs: number;
}

/**
 * The IAM check as an area registers it (src/iam/index.ts `iamCheck`): `onRequest` runs
 * before the body is read, `preValidation` after. `Request` is Fastify's request type.
 */
export interface IamHooks<Request> {
  onRequest: (request: Request) => Promise<void>;
  preValidation: (request: Request) => Promise<void>;
}

/**
 * Feed changes of IAM: committed, then published on every server in commit order; the
 * in-memory users, projects, memberships, keys and token cache follow them.
 */
export interface IamEvents {
  'iam.user.created': { user: User };
  'iam.project.created': { project: Project };
  'iam.member.added': { userId: string; projectId: string };
  /** A key was created or replaced; its secret travels sealed. */
  'iam.key.put': { key: AccessKey; secretSealed: string };
  'iam.key.deleted': { accessKey: string };
  'iam.token.revoked': { digest: string };
  [key: string]: unknown;
}
