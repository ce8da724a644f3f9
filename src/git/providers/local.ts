import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitError } from '../errors.js';
import type { CommitInfo, FileContent, FileWrite, Hook, HostUser, Namespace, ProjectInfo, ProjectRef, RepoKey, RepoProvider } from '../types.js';
import { runGit } from './git-cli.js';

/** A namespace or repository name on the built-in host: letters, digits, `.`, `_`, `-`; no leading dot. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/;
const ZERO = '0000000000000000000000000000000000000000';
/** How many times a file write is tried on a branch that other writes keep moving. */
const WRITE_ATTEMPTS = 20;

/** True when `name` may be a namespace or repository name on the built-in host. */
export function isLocalName(name: string): boolean {
  return NAME.test(name) && !name.endsWith('.git') && !name.includes('..');
}

/**
 * Where the built-in host keeps its bare repositories:
 * `<git.dir>/<project>/<namespace>/<repo>.git` (`git.dir` defaults to `<dataDir>/git`; servers
 * sharing a database share it), cloned at `<base>/git/<project>/<namespace>/<repo>.git`.
 */
export class LocalRepos {
  /**
   * @param claim records a repository name before it is made (the service: a row whose key
   *   is the name); throws AlreadyExists when the name was taken, by any server
   */
  constructor(
    readonly root: string,
    private readonly claim: (project: string, namespace: string, repo: string) => Promise<void> = async () => undefined,
  ) {}

  /** Directory of a project's namespaces. */
  projectDir(project: string): string {
    return join(this.root, project);
  }

  /** Bare repository directory. @throws NotFound when a name is not valid */
  repoDir(project: string, namespace: string, repo: string): string {
    if (!isLocalName(namespace) || !isLocalName(repo)) throw gitError('NotFound', `repository ${namespace}/${repo}`);
    return join(this.root, project, namespace, `${repo}.git`);
  }

  /** The existing bare repository. @throws NotFound */
  existing(project: string, namespace: string, repo: string): string {
    const dir = this.repoDir(project, namespace, repo);
    if (!existsSync(join(dir, 'HEAD'))) throw gitError('NotFound', `repository ${namespace}/${repo}`);
    return dir;
  }

  /** Namespaces (directories) of a project, sorted. */
  namespaces(project: string): string[] {
    const dir = this.projectDir(project);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((n) => isLocalName(n) && statSync(join(dir, n)).isDirectory())
      .sort();
  }

  /** Repository names of a namespace, sorted; undefined when the namespace does not exist. */
  repos(project: string, namespace: string): string[] | undefined {
    if (!isLocalName(namespace)) return undefined;
    const dir = join(this.projectDir(project), namespace);
    if (!existsSync(dir)) return undefined;
    return readdirSync(dir)
      .filter((n) => n.endsWith('.git') && existsSync(join(dir, n, 'HEAD')))
      .map((n) => n.slice(0, -4))
      .sort();
  }

  /**
   * Creates a bare repository with `main` as its default branch. The name is claimed first
   * (in the database, so no two servers make the same repository), then its directory is
   * made with an exclusive mkdir.
   * @throws AlreadyExists, InvalidParameter for a bad name
   */
  async create(project: string, namespace: string, repo: string): Promise<void> {
    if (!isLocalName(namespace)) throw gitError('InvalidParameter', `namespace ${namespace}`);
    if (!isLocalName(repo)) throw gitError('InvalidParameter', `name ${repo}: letters, digits, '.', '_', '-', not ending in .git`);
    const dir = this.repoDir(project, namespace, repo);
    const exists = (): Error => gitError('AlreadyExists', `repository ${namespace}/${repo}`);
    if (existsSync(dir)) throw exists();
    await this.claim(project, namespace, repo);
    mkdirSync(join(this.projectDir(project), namespace), { recursive: true, mode: 0o700 });
    try {
      mkdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw exists();
      throw err;
    }
    const r = await runGit(['init', '--bare', '--quiet', '--initial-branch=main', dir]);
    if (r.code !== 0) throw new Error(`git init failed: ${r.stderr}`);
    await git(dir, ['config', 'http.receivepack', 'true']);
  }

  /** Heads of every branch: `branch → sha`. */
  async heads(dir: string): Promise<Map<string, string>> {
    const out = await git(dir, ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads']);
    const heads = new Map<string, string>();
    for (const line of out.toString('utf8').split('\n')) {
      const [sha, ref] = line.split(' ');
      if (sha && ref) heads.set(ref.slice('refs/heads/'.length), sha);
    }
    return heads;
  }
}

/** Runs git in a bare repository. @throws Error (an internal failure) on a non-zero exit */
async function git(dir: string, args: string[], opts: { env?: Record<string, string>; input?: Buffer | string } = {}): Promise<Buffer> {
  const r = await runGit(args, { gitDir: dir, ...opts });
  if (r.code !== 0) throw new Error(`git ${args[0]} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Resolves `ref` to a commit sha, or undefined. */
async function resolveCommit(dir: string, ref: string): Promise<string | undefined> {
  if (ref.startsWith('-')) return undefined;
  const r = await runGit(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], { gitDir: dir });
  return r.code === 0 ? r.stdout.toString('utf8').trim() : undefined;
}

/**
 * Checks a file path given on the wire: relative, no empty, `.` or `..` segments, never inside
 * `.git`, no control characters (a newline would be read as a further line by
 * `update-index --index-info`).
 */
function checkPath(path: string): string {
  const parts = path.split('/');
  if (!path || path.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..' || p.toLowerCase() === '.git') || /[\x00-\x1f\x7f]/.test(path)) {
    throw gitError('InvalidParameter', `path ${path}`);
  }
  return path;
}

/** Hook storage of hosted repositories (the service keeps it in the database). */
export interface LocalHookStore {
  list(repo: RepoKey): Promise<Hook[]>;
  create(repo: RepoKey, url: string, secret: string): Promise<Hook>;
  delete(repo: RepoKey, id: string): Promise<void>;
}

/**
 * The built-in host as a `RepoProvider`: every operation is the git CLI on a bare
 * repository; file writes are plumbing (hash-object, a temporary index, write-tree,
 * commit-tree) finished by `update-ref <new> <old>`, a compare-and-swap that refuses a
 * branch moved in between. Commits are authored by the authorization's user at the
 * server clock's time.
 */
export class LocalProvider implements RepoProvider {
  constructor(
    private readonly repos: LocalRepos,
    private readonly project: string,
    /** The authorization's user: its own namespace, and the author of API commits. */
    private readonly user: string,
    /** Base URL of clone URLs, e.g. `http://127.0.0.1:30100`. */
    private readonly baseUrl: string,
    private readonly hookStore: LocalHookStore,
    private readonly nowMs: () => number,
  ) {}

  private cloneUrl(namespace: string, repo: string): string {
    return `${this.baseUrl}/git/${this.project}/${namespace}/${repo}.git`;
  }

  private dir(repo: RepoKey): string {
    return this.repos.existing(this.project, repo.namespace, repo.project.includes('/') ? stripNamespace(repo) : repo.project);
  }

  async currentUser(): Promise<HostUser> {
    return { login: this.user, home: `${this.baseUrl}/git/${this.project}/${this.user}`, avatar: '' };
  }

  async namespaces(): Promise<Namespace[]> {
    const names = new Set(this.repos.namespaces(this.project));
    if (isLocalName(this.user)) names.add(this.user);
    return [...names].sort().map((n) => ({ id: n, name: n }));
  }

  async projectInfo(cloneUrl: string): Promise<ProjectInfo> {
    let url: URL;
    try {
      url = new URL(cloneUrl);
    } catch {
      throw gitError('CloneUrlInvalid', cloneUrl);
    }
    const m = /^\/git\/([^/]+)\/([^/]+)\/([^/]+?)(\.git)?\/?$/.exec(url.pathname);
    if (!m || m[1] !== this.project || !isLocalName(m[2]!) || !isLocalName(m[3]!)) throw gitError('CloneUrlInvalid', cloneUrl);
    if (!existsSync(join(this.repos.repoDir(this.project, m[2]!, m[3]!), 'HEAD'))) throw gitError('CloneUrlInvalid', `${cloneUrl}: no such repository`);
    return { namespace_id: m[2]!, namespace: m[2]!, project_id: m[3]!, project: m[3]! };
  }

  async projects(namespace: string): Promise<ProjectRef[]> {
    const names = this.repos.repos(this.project, namespace);
    if (!names) {
      if (namespace === this.user) return [];
      throw gitError('NotFound', `namespace ${namespace}`);
    }
    return names.map((n) => ({ id: n, name: n, clone_url: this.cloneUrl(namespace, n) }));
  }

  async createProject(namespace: string, name: string): Promise<ProjectRef> {
    await this.repos.create(this.project, namespace, name);
    return { id: name, name, clone_url: this.cloneUrl(namespace, name) };
  }

  async branches(repo: RepoKey): Promise<string[]> {
    return refNames(this.dir(repo), 'refs/heads');
  }

  async tags(repo: RepoKey): Promise<string[]> {
    return refNames(this.dir(repo), 'refs/tags');
  }

  async createTag(repo: RepoKey, name: string, ref: string, message: string): Promise<void> {
    const dir = this.dir(repo);
    const valid = await runGit(['check-ref-format', `refs/tags/${name}`]);
    if (valid.code !== 0 || name.startsWith('-')) throw gitError('InvalidParameter', `tag name ${name}`);
    const sha = await resolveCommit(dir, ref);
    if (!sha) throw gitError('NotFound', `ref ${ref}`);
    if (await resolveCommit(dir, `refs/tags/${name}`)) throw gitError('AlreadyExists', `tag ${name}`);
    await git(dir, ['tag', '-a', '-m', message, '--', name, sha], { env: this.identity() });
  }

  async deleteTag(repo: RepoKey, name: string): Promise<void> {
    const dir = this.dir(repo);
    const r = await runGit(['show-ref', '--verify', '--quiet', `refs/tags/${name}`], { gitDir: dir });
    if (r.code !== 0 || name.startsWith('-')) throw gitError('NotFound', `tag ${name}`);
    await git(dir, ['update-ref', '-d', `refs/tags/${name}`]);
  }

  async commits(repo: RepoKey, ref?: string): Promise<CommitInfo[]> {
    const dir = this.dir(repo);
    const sha = await resolveCommit(dir, ref ?? 'HEAD');
    if (!sha) {
      if (ref === undefined) return [];
      throw gitError('NotFound', `ref ${ref}`);
    }
    const out = await git(dir, ['log', '-n', '10', '--format=%H%x00%aI%x00%B%x1e', sha]);
    return out
      .toString('utf8')
      .split('\x1e')
      .map((s) => s.replace(/^\n/, ''))
      .filter((s) => s.length > 0)
      .map((s) => {
        const [h, date, message] = s.split('\0') as [string, string, string];
        return { sha: h, authored_date: date, message: message.replace(/\n+$/, '') };
      });
  }

  hooks(repo: RepoKey): Promise<Hook[]> {
    this.dir(repo);
    return this.hookStore.list(this.key(repo));
  }

  createHook(repo: RepoKey, url: string, secret: string): Promise<Hook> {
    this.dir(repo);
    return this.hookStore.create(this.key(repo), url, secret);
  }

  deleteHook(repo: RepoKey, id: string): Promise<void> {
    this.dir(repo);
    return this.hookStore.delete(this.key(repo), id);
  }

  private key(repo: RepoKey): RepoKey {
    return { namespace: repo.namespace, project: repo.project.includes('/') ? stripNamespace(repo) : repo.project };
  }

  async tree(repo: RepoKey, ref: string): Promise<string[]> {
    const dir = this.dir(repo);
    const sha = await resolveCommit(dir, ref);
    if (!sha) throw gitError('NotFound', `ref ${ref}`);
    const out = await git(dir, ['ls-tree', '-r', '-z', '--name-only', sha]);
    return out.toString('utf8').split('\0').filter((p) => p.length > 0);
  }

  async getFile(repo: RepoKey, path: string, ref: string): Promise<FileContent> {
    const dir = this.dir(repo);
    const sha = await resolveCommit(dir, ref);
    if (!sha) throw gitError('NotFound', `ref ${ref}`);
    const entry = await lsEntry(dir, sha, checkPath(path));
    if (!entry || entry.type !== 'blob') throw gitError('NotFound', `file ${path}`);
    const bytes = await git(dir, ['cat-file', 'blob', entry.sha]);
    const text = bytes.toString('utf8');
    const isText = !bytes.includes(0) && Buffer.from(text, 'utf8').equals(bytes);
    return isText ? { path, sha: entry.sha, encoding: 'text/plain', content: text } : { path, sha: entry.sha, encoding: 'base64', content: bytes.toString('base64') };
  }

  async createFile(repo: RepoKey, path: string, write: FileWrite): Promise<void> {
    await this.write(repo, checkPath(path), write, 'create');
  }

  async updateFile(repo: RepoKey, path: string, write: FileWrite): Promise<void> {
    await this.write(repo, checkPath(path), write, 'update');
  }

  async deleteFile(repo: RepoKey, path: string, write: Omit<FileWrite, 'content'>): Promise<void> {
    await this.write(repo, checkPath(path), write, 'delete');
  }

  private identity(): Record<string, string> {
    const date = `@${Math.floor(this.nowMs() / 1000)} +0000`;
    const email = `${this.user}@openstage.local`;
    return { GIT_AUTHOR_NAME: this.user, GIT_AUTHOR_EMAIL: email, GIT_AUTHOR_DATE: date, GIT_COMMITTER_NAME: this.user, GIT_COMMITTER_EMAIL: email, GIT_COMMITTER_DATE: date };
  }

  /**
   * One commit on branch `write.ref` that creates, replaces or removes `path`. The branch may
   * be created only by a file create in a repository without commits.
   */
  private async write(repo: RepoKey, path: string, write: FileWrite | Omit<FileWrite, 'content'>, kind: 'create' | 'update' | 'delete'): Promise<void> {
    const dir = this.dir(repo);
    const branch = write.ref.replace(/^refs\/heads\//, '');
    const valid = await runGit(['check-ref-format', `refs/heads/${branch}`]);
    if (valid.code !== 0 || branch.startsWith('-')) throw gitError('InvalidParameter', `ref ${write.ref}`);
    // A branch moved by a write to another file is not a conflict: the write is checked and
    // made again on the new head (a changed file still fails its sha check there).
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 20 * attempt)));
      if (await this.writeOnce(dir, branch, path, write, kind)) return;
    }
    throw gitError('ShaMismatch', `branch ${branch} kept moving during the write`);
  }

  /** One attempt of `write`. @returns false when the branch moved before update-ref */
  private async writeOnce(dir: string, branch: string, path: string, write: FileWrite | Omit<FileWrite, 'content'>, kind: 'create' | 'update' | 'delete'): Promise<boolean> {
    const heads = await this.repos.heads(dir);
    const old = heads.get(branch);
    if (!old && !(kind === 'create' && heads.size === 0)) throw gitError('NotFound', `branch ${branch}`);
    const entry = old ? await lsEntry(dir, old, path) : undefined;
    if (kind === 'create' && entry) throw gitError('AlreadyExists', `file ${path}`);
    if (kind !== 'create') {
      if (!entry || entry.type !== 'blob') throw gitError('NotFound', `file ${path}`);
      if (write.sha !== entry.sha) throw gitError('ShaMismatch', `file ${path} is at ${entry.sha}`);
    }
    if (kind === 'create' && old && path.includes('/')) {
      // Each parent must be a directory (or absent), never a file.
      const parts = path.split('/');
      const parents = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
      const out = (await git(dir, ['ls-tree', '-z', '--full-tree', old, '--', ...parents])).toString('utf8');
      for (const line of out.split('\0')) {
        const m = /^\d+ (\w+) [0-9a-f]+\t(.*)$/s.exec(line);
        if (m && m[1] !== 'tree' && parents.includes(m[2]!)) throw gitError('InvalidParameter', `path ${path}: ${m[2]} is a file`);
      }
    }
    const tmp = mkdtempSync(join(tmpdir(), 'openstage-index-'));
    try {
      const env = { ...this.identity(), GIT_INDEX_FILE: join(tmp, 'index') };
      if (old) await git(dir, ['read-tree', old], { env });
      if (kind === 'delete') {
        // `--force-remove` wants a work tree; an --index-info line with mode 0 removes the entry.
        await git(dir, ['update-index', '--index-info'], { env, input: `0 ${ZERO}\t${path}\n` });
      } else {
        const blob = (await git(dir, ['hash-object', '-w', '--stdin'], { input: (write as FileWrite).content })).toString('utf8').trim();
        const mode = entry?.mode === '100755' ? '100755' : '100644';
        await git(dir, ['update-index', '--add', '--cacheinfo', `${mode},${blob},${path}`], { env });
      }
      const tree = (await git(dir, ['write-tree'], { env })).toString('utf8').trim();
      const commit = (await git(dir, ['commit-tree', tree, ...(old ? ['-p', old] : []), '-F', '-'], { env, input: write.message })).toString('utf8').trim();
      const cas = await runGit(['update-ref', '-m', `openstage: ${kind} ${path}`, `refs/heads/${branch}`, commit, old ?? ZERO], { gitDir: dir, env });
      return cas.code === 0;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
}

function stripNamespace(repo: RepoKey): string {
  const prefix = `${repo.namespace}/`;
  return repo.project.startsWith(prefix) ? repo.project.slice(prefix.length) : repo.project;
}

async function refNames(dir: string, prefix: string): Promise<string[]> {
  const out = await git(dir, ['for-each-ref', '--format=%(refname)', prefix]);
  return out
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.slice(prefix.length + 1))
    .sort();
}

/** The tree entry of `path` at commit `sha`: mode, type, object sha. */
async function lsEntry(dir: string, sha: string, path: string): Promise<{ mode: string; type: string; sha: string } | undefined> {
  const out = (await git(dir, ['ls-tree', '-z', '--full-tree', sha, '--', path])).toString('utf8');
  const line = out.split('\0')[0];
  if (!line) return undefined;
  const m = /^(\d+) (\w+) ([0-9a-f]+)\t(.*)$/s.exec(line);
  if (!m || m[4] !== path) return undefined;
  return { mode: m[1]!, type: m[2]!, sha: m[3]! };
}
