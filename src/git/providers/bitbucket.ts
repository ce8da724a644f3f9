import { createHash } from 'node:crypto';
import { gitError } from '../errors.js';
import type { CommitInfo, Credential, FileContent, FileWrite, Hook, HostUser, Namespace, ProjectInfo, ProjectRef, RepoKey, RepoProvider } from '../types.js';
import { cloneUrlSegments, HostClient } from './http.js';

const MAX_PAGES = 50;
/** Directories listed at most by `tree` (one `/src` listing each). */
const MAX_DIRS = 500;

/** Git's blob id of `bytes` (SHA-1 of `blob <size>\0<bytes>`): Bitbucket does not expose blob ids, so the sha of a file is computed. */
export function gitBlobSha(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

/**
 * Bitbucket Cloud over its REST API 2.0 (developer.atlassian.com/cloud/bitbucket/rest):
 * access and OAuth tokens as Bearer, app passwords as HTTP Basic; namespaces are the
 * workspaces the user has access to; a project id is `workspace/slug` (`workspace:slug` on
 * the wire); lists are `{values, next}` pages followed through `next`; errors are
 * `{"type":"error","error":{"message"}}`. Files are read raw from `/src/{commit}/{path}`
 * and written by a commit `POST /src` (multipart form: the file under its path, `message`,
 * `branch`, `parents` = the branch head the sha was checked against, `files` to delete);
 * the `sha` of a file is its Git blob id, computed from its bytes.
 */
export class BitbucketProvider implements RepoProvider {
  private readonly http: HostClient;

  constructor(base: string, cred: Credential, fetchFn: typeof fetch, timeoutMs: number) {
    const authorization = cred.tokenType === 'password' ? `Basic ${Buffer.from(`${cred.user}:${cred.secret}`).toString('base64')}` : `Bearer ${cred.secret}`;
    this.http = new HostClient({ base: base.replace(/\/+$/, ''), headers: { authorization, 'user-agent': 'OpenStage' }, fetch: fetchFn, timeoutMs, hostName: 'Bitbucket' });
  }

  /** Every value of a paged list, following `next`. */
  private async all(path: string): Promise<any[]> {
    const items: any[] = [];
    let next: string | undefined = path;
    for (let page = 0; next && page < MAX_PAGES; page += 1) {
      const body: any = (await this.http.call('GET', next)).body;
      if (Array.isArray(body?.values)) items.push(...(body.values as unknown[]));
      next = typeof body?.next === 'string' && body.next ? body.next : undefined;
    }
    return items;
  }

  private repoPath(repo: RepoKey): string {
    const full = repo.project.includes('/') ? repo.project : `${repo.namespace}/${repo.project}`;
    return `/repositories/${full.split('/').map(encodeURIComponent).join('/')}`;
  }

  async currentUser(): Promise<HostUser> {
    const u = await this.http.get('/user');
    return { login: String(u.username ?? u.nickname ?? u.account_id ?? ''), home: String(u.links?.html?.href ?? ''), avatar: String(u.links?.avatar?.href ?? '') };
  }

  async namespaces(): Promise<Namespace[]> {
    return (await this.all('/user/permissions/workspaces?pagelen=100')).map((p) => ({ id: String(p.workspace?.slug), name: String(p.workspace?.slug) }));
  }

  async projectInfo(cloneUrl: string): Promise<ProjectInfo> {
    const [workspace, slug] = cloneUrlSegments(cloneUrl);
    const r = await this.http.call('GET', `/repositories/${encodeURIComponent(workspace!)}/${encodeURIComponent(slug!)}`, undefined, [404]);
    if (r.status === 404) throw gitError('CloneUrlInvalid', `${cloneUrl}: no such repository`);
    const ws = String(r.body.workspace?.slug ?? workspace);
    return { namespace_id: ws, namespace: ws, project_id: String(r.body.full_name), project: String(r.body.slug ?? r.body.name) };
  }

  private toRef(r: any): ProjectRef {
    const clone = ((r.links?.clone ?? []) as any[]).find((c) => c.name === 'https');
    return { id: String(r.full_name), name: String(r.slug ?? r.name), clone_url: String(clone?.href ?? '') };
  }

  async projects(namespace: string): Promise<ProjectRef[]> {
    return (await this.all(`/repositories/${encodeURIComponent(namespace)}?pagelen=100`)).map((r) => this.toRef(r));
  }

  async createProject(namespace: string, name: string): Promise<ProjectRef> {
    const slug = name.toLowerCase();
    const r = await this.http.call('POST', `/repositories/${encodeURIComponent(namespace)}/${encodeURIComponent(slug)}`, { scm: 'git', name, is_private: true }, [400]);
    if (r.status === 400) {
      if (/already exists/i.test(JSON.stringify(r.body ?? ''))) throw gitError('AlreadyExists', `repository ${namespace}/${slug}`);
      throw gitError('InvalidParameter', `Bitbucket: ${String(r.body?.error?.message ?? 'bad request')}`);
    }
    return this.toRef(r.body);
  }

  async branches(repo: RepoKey): Promise<string[]> {
    return (await this.all(`${this.repoPath(repo)}/refs/branches?pagelen=100`)).map((b) => String(b.name));
  }

  async tags(repo: RepoKey): Promise<string[]> {
    return (await this.all(`${this.repoPath(repo)}/refs/tags?pagelen=100`)).map((b) => String(b.name));
  }

  /** The commit hash a branch, tag or hash names. @throws NotFound */
  private async resolve(repo: RepoKey, ref: string): Promise<string> {
    return String((await this.http.get(`${this.repoPath(repo)}/commit/${encodeURIComponent(ref)}`)).hash);
  }

  async createTag(repo: RepoKey, name: string, ref: string, message: string): Promise<void> {
    const hash = await this.resolve(repo, ref);
    const r = await this.http.call('POST', `${this.repoPath(repo)}/refs/tags`, { name, target: { hash }, message }, [400, 409]);
    if (r.status === 400 || r.status === 409) {
      if (r.status === 409 || /already exists/i.test(JSON.stringify(r.body ?? ''))) throw gitError('AlreadyExists', `tag ${name}`);
      throw gitError('InvalidParameter', `Bitbucket: ${String(r.body?.error?.message ?? 'bad request')}`);
    }
  }

  async deleteTag(repo: RepoKey, name: string): Promise<void> {
    await this.http.call('DELETE', `${this.repoPath(repo)}/refs/tags/${encodeURIComponent(name)}`);
  }

  async commits(repo: RepoKey, ref?: string): Promise<CommitInfo[]> {
    const rev = ref ?? String((await this.http.get(this.repoPath(repo))).mainbranch?.name ?? '');
    const body = await this.http.get(`${this.repoPath(repo)}/commits${rev ? `/${encodeURIComponent(rev)}` : ''}?pagelen=10`);
    return ((body?.values ?? []) as any[]).slice(0, 10).map((c) => ({ sha: String(c.hash), message: String(c.message ?? ''), authored_date: String(c.date ?? '') }));
  }

  /** Hook ids are Bitbucket's `{uuid}` without the braces. */
  private hookWire(h: any, url?: string): Hook {
    return { id: String(h.uuid ?? '').replace(/^\{|\}$/g, ''), type: 'bitbucket', callback_url: String(h.url ?? url ?? '') };
  }

  async hooks(repo: RepoKey): Promise<Hook[]> {
    return (await this.all(`${this.repoPath(repo)}/hooks?pagelen=100`)).map((h) => this.hookWire(h));
  }

  async createHook(repo: RepoKey, url: string, secret: string): Promise<Hook> {
    const h = (await this.http.call('POST', `${this.repoPath(repo)}/hooks`, { description: 'OpenStage', url, active: true, secret, events: ['repo:push'] })).body;
    return this.hookWire(h, url);
  }

  async deleteHook(repo: RepoKey, id: string): Promise<void> {
    const uid = id.startsWith('{') ? id : `{${id}}`;
    await this.http.call('DELETE', `${this.repoPath(repo)}/hooks/${encodeURIComponent(uid)}`);
  }

  private srcPath(repo: RepoKey, hash: string, path: string): string {
    return `${this.repoPath(repo)}/src/${encodeURIComponent(hash)}/${path.split('/').filter((s) => s).map(encodeURIComponent).join('/')}`;
  }

  async tree(repo: RepoKey, ref: string): Promise<string[]> {
    const hash = await this.resolve(repo, ref);
    const files: string[] = [];
    const dirs = [''];
    for (let n = 0; dirs.length > 0 && n < MAX_DIRS; n += 1) {
      const dir = dirs.shift()!;
      for (const e of await this.all(`${this.srcPath(repo, hash, dir)}${dir ? '/' : ''}?pagelen=100`)) {
        if (e.type === 'commit_directory') dirs.push(String(e.path));
        else if (e.type === 'commit_file') files.push(String(e.path));
      }
    }
    return files;
  }

  /** The file's bytes at a commit, or undefined when the path is absent; a directory is NotFound. */
  private async read(repo: RepoKey, hash: string, path: string): Promise<Buffer | undefined> {
    const meta = await this.http.call('GET', `${this.srcPath(repo, hash, path)}?format=meta`, undefined, [404]);
    if (meta.status === 404) return undefined;
    if (meta.body?.type !== 'commit_file') throw gitError('NotFound', `file ${path} (a directory)`);
    return (await this.http.call('GET', this.srcPath(repo, hash, path))).bytes;
  }

  async getFile(repo: RepoKey, path: string, ref: string): Promise<FileContent> {
    const bytes = await this.read(repo, await this.resolve(repo, ref), path);
    if (!bytes) throw gitError('NotFound', `file ${path}`);
    return { path, sha: gitBlobSha(bytes), encoding: 'base64', content: bytes.toString('base64') };
  }

  private async commit(repo: RepoKey, form: FormData): Promise<void> {
    const r = await this.http.call('POST', `${this.repoPath(repo)}/src`, form, [400, 409]);
    if (r.status === 409 || (r.status === 400 && /parent|head|tip/i.test(JSON.stringify(r.body ?? '')))) throw gitError('ShaMismatch', `Bitbucket: ${String(r.body?.error?.message ?? 'the branch moved')}`);
    if (r.status === 400) throw gitError('InvalidParameter', `Bitbucket: ${String(r.body?.error?.message ?? 'bad request')}`);
  }

  private form(write: { ref: string; message: string }, parent: string): FormData {
    const form = new FormData();
    form.set('message', write.message);
    form.set('branch', write.ref);
    form.set('parents', parent);
    return form;
  }

  async createFile(repo: RepoKey, path: string, write: FileWrite): Promise<void> {
    const head = await this.resolve(repo, write.ref);
    if (await this.read(repo, head, path)) throw gitError('AlreadyExists', `file ${path}`);
    const form = this.form(write, head);
    form.set(path, new Blob([new Uint8Array(write.content)]), path.split('/').pop());
    await this.commit(repo, form);
  }

  /** Compares the file's blob id at the branch head with `sha`, then commits on that head. */
  private async checked(repo: RepoKey, path: string, ref: string, sha: string | undefined): Promise<string> {
    const head = await this.resolve(repo, ref);
    const bytes = await this.read(repo, head, path);
    if (!bytes) throw gitError('NotFound', `file ${path}`);
    const current = gitBlobSha(bytes);
    if (current !== sha) throw gitError('ShaMismatch', `file ${path} is at ${current}`);
    return head;
  }

  async updateFile(repo: RepoKey, path: string, write: FileWrite): Promise<void> {
    const head = await this.checked(repo, path, write.ref, write.sha);
    const form = this.form(write, head);
    form.set(path, new Blob([new Uint8Array(write.content)]), path.split('/').pop());
    await this.commit(repo, form);
  }

  async deleteFile(repo: RepoKey, path: string, write: Omit<FileWrite, 'content'>): Promise<void> {
    const head = await this.checked(repo, path, write.ref, write.sha);
    const form = this.form(write, head);
    form.set('files', path);
    await this.commit(repo, form);
  }
}
