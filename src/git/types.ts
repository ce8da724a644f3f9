import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Db } from '../core/db/kysely.js';
import type { Logger } from '../core/log.js';
import type { SecretBox } from '../core/secrets.js';

/**
 * Domain types of Git repository access (servicestage.md §9). `local` is OpenStage's own
 * host (repositories in the data dir, served over smart HTTP); the others are the Git hosts
 * the real ServiceStage knows.
 */
export const REPO_TYPES = ['local', 'github', 'gitlab', 'gitee', 'bitbucket', 'devcloud'] as const;
export type RepoType = (typeof REPO_TYPES)[number];

/** How an authorization was made. */
export type TokenType = 'oauth' | 'personal' | 'password';

/** A stored authorization; the credential stays sealed (see `Credential`). */
export interface Authorization {
  project: string;
  name: string;
  repoType: RepoType;
  tokenType: TokenType;
  /** API base URL of the host (e.g. `https://api.github.com`), '' for the default. */
  repoHost: string;
  /** Web home of the user on the host. */
  repoHome: string;
  repoUser: string;
  /** Avatar URL (the wire keeps the `avartar` spelling). */
  avatar: string;
  /** 0 = usable (INF: the docs give the field as an int without values). */
  status: number;
  createdAtMs: number;
  updatedAtMs: number;
  /** Sealed credential, opened only by the service. */
  tokenSealed: string;
  refreshSealed: string;
}

/** An opened credential, handed to a provider for one call; never logged or returned. */
export interface Credential {
  tokenType: TokenType;
  /** The token (oauth/personal) or the password (password). */
  secret: string;
  /** User name (password authorizations; the host's login otherwise). */
  user: string;
}

/** What a provider tells about the authorized user when an authorization is created. */
export interface HostUser {
  login: string;
  home: string;
  avatar: string;
}

export interface Namespace {
  id: string;
  name: string;
}

export interface ProjectRef {
  id: string;
  name: string;
  clone_url: string;
}

export interface ProjectInfo {
  namespace_id: string;
  namespace: string;
  project_id: string;
  project: string;
}

export interface CommitInfo {
  sha: string;
  message: string;
  /** ISO-8601 time (INF: the docs do not show the format). */
  authored_date: string;
}

export interface Hook {
  id: string;
  type: string;
  callback_url: string;
}

export interface FileContent {
  path: string;
  sha: string;
  encoding: 'base64' | 'text/plain';
  content: string;
}

/** A repository address inside a provider: namespace and project as the caller gave them (`:` already turned into `/`). */
export interface RepoKey {
  namespace: string;
  project: string;
}

/** A file write: message and the new bytes, with the author's name. */
export interface FileWrite {
  ref: string;
  message: string;
  content: Buffer;
  /** Expected current blob sha (modify and delete). */
  sha?: string;
}

/**
 * One Git host behind the v1 Git API. Every method throws `gitError(...)`: NotFound for a
 * missing namespace/project/ref/file, AuthorizationInvalid for credentials the host refuses,
 * RateLimited, HostError, AlreadyExists, ShaMismatch.
 */
export interface RepoProvider {
  /** The user the credential belongs to. */
  currentUser(): Promise<HostUser>;
  namespaces(): Promise<Namespace[]>;
  projectInfo(cloneUrl: string): Promise<ProjectInfo>;
  projects(namespace: string): Promise<ProjectRef[]>;
  createProject(namespace: string, name: string): Promise<ProjectRef>;
  branches(repo: RepoKey): Promise<string[]>;
  tags(repo: RepoKey): Promise<string[]>;
  createTag(repo: RepoKey, name: string, ref: string, message: string): Promise<void>;
  deleteTag(repo: RepoKey, name: string): Promise<void>;
  /** Latest 10 commits of `ref` (default branch when absent), newest first. */
  commits(repo: RepoKey, ref?: string): Promise<CommitInfo[]>;
  hooks(repo: RepoKey): Promise<Hook[]>;
  createHook(repo: RepoKey, url: string, secret: string): Promise<Hook>;
  deleteHook(repo: RepoKey, id: string): Promise<void>;
  /** Every file path (blobs, recursively) at `ref`. */
  tree(repo: RepoKey, ref: string): Promise<string[]>;
  getFile(repo: RepoKey, path: string, ref: string): Promise<FileContent>;
  createFile(repo: RepoKey, path: string, write: FileWrite): Promise<void>;
  updateFile(repo: RepoKey, path: string, write: FileWrite): Promise<void>;
  deleteFile(repo: RepoKey, path: string, write: Omit<FileWrite, 'content'>): Promise<void>;
}

/**
 * A push seen by OpenStage: through its smart HTTP endpoint, or delivered by a host's webhook.
 * The deployment engine subscribes and redeploys the components whose source is `cloneUrl` + `branch`.
 */
export interface PushEvent {
  project: string;
  repoType: RepoType;
  cloneUrl: string;
  /** Branch name without `refs/heads/`. */
  branch: string;
  /** New head commit. */
  sha: string;
}

/** Bus events of the area (STYLE.md §2), published after the change. */
export type GitEvents = {
  'git.push.received': PushEvent;
  'git.authorization.deleted': { project: string; name: string };
};

/** Dependencies of the Git service, built in server.ts. */
export interface GitDeps {
  db: Db;
  bus: Bus<GitEvents>;
  clock: Clock;
  log: Logger;
  config: Readonly<Config>;
  secrets: SecretBox;
  /** Outbound HTTP (provider adapters, hook deliveries); tests may replace it. */
  fetch?: typeof fetch;
}
