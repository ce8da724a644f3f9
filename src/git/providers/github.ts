import { gitError } from '../errors.js';
import type { CommitInfo, Credential, FileContent, FileWrite, Hook, HostUser, Namespace, ProjectInfo, ProjectRef, RepoKey, RepoProvider } from '../types.js';
import { b64, cloneUrlSegments, HostClient } from './http.js';

/**
 * GitHub (and GitHub Enterprise) over its REST API v3 (docs.github.com/rest): namespaces are
 * the user and its organisations, a project id is `owner/repo` (`owner:repo` on the wire),
 * lists follow the Link header, a 403 with `x-ratelimit-remaining: 0` is the rate limit.
 */
export class GithubProvider implements RepoProvider {
  private readonly http: HostClient;
  private login?: string;

  constructor(base: string, cred: Credential, fetchFn: typeof fetch, timeoutMs: number) {
    const authorization = cred.tokenType === 'password' ? `Basic ${Buffer.from(`${cred.user}:${cred.secret}`).toString('base64')}` : `Bearer ${cred.secret}`;
    this.http = new HostClient({
      base: base.replace(/\/+$/, ''),
      headers: { authorization, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'OpenStage' },
      fetch: fetchFn,
      timeoutMs,
      hostName: 'GitHub',
      isRateLimit: (r) => r.headers.get('x-ratelimit-remaining') === '0' || /rate limit/i.test(String(r.body?.message ?? '')),
    });
  }

  private repoPath(repo: RepoKey): string {
    const full = repo.project.includes('/') ? repo.project : `${repo.namespace}/${repo.project}`;
    return `/repos/${full.split('/').map(encodeURIComponent).join('/')}`;
  }

  async currentUser(): Promise<HostUser> {
    const u = await this.http.get('/user');
    this.login = String(u.login);
    return { login: String(u.login), home: String(u.html_url ?? ''), avatar: String(u.avatar_url ?? '') };
  }

  private async me(): Promise<string> {
    return this.login ?? (await this.currentUser()).login;
  }

  async namespaces(): Promise<Namespace[]> {
    const login = await this.me();
    const orgs = await this.http.all('/user/orgs?per_page=100');
    return [{ id: login, name: login }, ...orgs.map((o) => ({ id: String(o.login), name: String(o.login) }))];
  }

  async projectInfo(cloneUrl: string): Promise<ProjectInfo> {
    const [owner, name] = cloneUrlSegments(cloneUrl);
    const r = await this.http.call('GET', `/repos/${encodeURIComponent(owner!)}/${encodeURIComponent(name!)}`, undefined, [404]);
    if (r.status === 404) throw gitError('CloneUrlInvalid', `${cloneUrl}: no such repository`);
    return { namespace_id: String(r.body.owner.login), namespace: String(r.body.owner.login), project_id: String(r.body.full_name), project: String(r.body.name) };
  }

  private toRef(r: any): ProjectRef {
    return { id: String(r.full_name), name: String(r.name), clone_url: String(r.clone_url) };
  }

  async projects(namespace: string): Promise<ProjectRef[]> {
    if (namespace === (await this.me())) return (await this.http.all('/user/repos?affiliation=owner&per_page=100')).map((r) => this.toRef(r));
    return (await this.http.all(`/orgs/${encodeURIComponent(namespace)}/repos?per_page=100`)).map((r) => this.toRef(r));
  }

  async createProject(namespace: string, name: string): Promise<ProjectRef> {
    const path = namespace === (await this.me()) ? '/user/repos' : `/orgs/${encodeURIComponent(namespace)}/repos`;
    const r = await this.http.call('POST', path, { name }, [422]);
    if (r.status === 422) throw gitError('AlreadyExists', `repository ${namespace}/${name}`);
    return this.toRef(r.body);
  }

  async branches(repo: RepoKey): Promise<string[]> {
    return (await this.http.all(`${this.repoPath(repo)}/branches?per_page=100`)).map((b) => String(b.name));
  }

  async tags(repo: RepoKey): Promise<string[]> {
    return (await this.http.all(`${this.repoPath(repo)}/tags?per_page=100`)).map((b) => String(b.name));
  }

  async createTag(repo: RepoKey, name: string, ref: string, message: string): Promise<void> {
    const commit = await this.http.get(`${this.repoPath(repo)}/commits/${encodeURIComponent(ref)}`);
    const tag = await this.http.call('POST', `${this.repoPath(repo)}/git/tags`, { tag: name, message, object: commit.sha, type: 'commit' });
    const r = await this.http.call('POST', `${this.repoPath(repo)}/git/refs`, { ref: `refs/tags/${name}`, sha: tag.body.sha }, [422]);
    if (r.status === 422) throw gitError('AlreadyExists', `tag ${name}`);
  }

  async deleteTag(repo: RepoKey, name: string): Promise<void> {
    await this.http.call('DELETE', `${this.repoPath(repo)}/git/refs/tags/${encodeURIComponent(name)}`);
  }

  async commits(repo: RepoKey, ref?: string): Promise<CommitInfo[]> {
    const list = (await this.http.get(`${this.repoPath(repo)}/commits?per_page=10${ref ? `&sha=${encodeURIComponent(ref)}` : ''}`)) as any[];
    return list.slice(0, 10).map((c) => ({ sha: String(c.sha), message: String(c.commit?.message ?? ''), authored_date: String(c.commit?.author?.date ?? '') }));
  }

  async hooks(repo: RepoKey): Promise<Hook[]> {
    return (await this.http.all(`${this.repoPath(repo)}/hooks?per_page=100`)).map((h) => ({ id: String(h.id), type: 'github', callback_url: String(h.config?.url ?? '') }));
  }

  async createHook(repo: RepoKey, url: string, secret: string): Promise<Hook> {
    const r = await this.http.call('POST', `${this.repoPath(repo)}/hooks`, { name: 'web', active: true, events: ['push'], config: { url, content_type: 'json', secret, insecure_ssl: '0' } }, [422]);
    if (r.status === 422) throw gitError('AlreadyExists', `hook ${url}`);
    return { id: String(r.body.id), type: 'github', callback_url: String(r.body.config?.url ?? url) };
  }

  async deleteHook(repo: RepoKey, id: string): Promise<void> {
    await this.http.call('DELETE', `${this.repoPath(repo)}/hooks/${encodeURIComponent(id)}`);
  }

  async tree(repo: RepoKey, ref: string): Promise<string[]> {
    const t = await this.http.get(`${this.repoPath(repo)}/git/trees/${encodeURIComponent(ref)}?recursive=1`);
    return ((t.tree ?? []) as any[]).filter((e) => e.type === 'blob').map((e) => String(e.path));
  }

  private contentsPath(repo: RepoKey, path: string): string {
    return `${this.repoPath(repo)}/contents/${path.split('/').map(encodeURIComponent).join('/')}`;
  }

  async getFile(repo: RepoKey, path: string, ref: string): Promise<FileContent> {
    const f = await this.http.get(`${this.contentsPath(repo, path)}?ref=${encodeURIComponent(ref)}`);
    if (Array.isArray(f) || f.type !== 'file') throw gitError('NotFound', `file ${path}`);
    return { path: String(f.path), sha: String(f.sha), encoding: 'base64', content: String(f.content ?? '').replace(/\s+/g, '') };
  }

  async createFile(repo: RepoKey, path: string, write: FileWrite): Promise<void> {
    const r = await this.http.call('PUT', this.contentsPath(repo, path), { message: write.message, content: b64(write.content), branch: write.ref }, [422]);
    if (r.status === 422) throw gitError('AlreadyExists', `file ${path}`);
  }

  async updateFile(repo: RepoKey, path: string, write: FileWrite): Promise<void> {
    const r = await this.http.call('PUT', this.contentsPath(repo, path), { message: write.message, content: b64(write.content), branch: write.ref, sha: write.sha }, [409, 422]);
    if (r.status === 409 || r.status === 422) throw gitError('ShaMismatch', `file ${path}`);
  }

  async deleteFile(repo: RepoKey, path: string, write: Omit<FileWrite, 'content'>): Promise<void> {
    const r = await this.http.call('DELETE', this.contentsPath(repo, path), { message: write.message, sha: write.sha, branch: write.ref }, [409, 422]);
    if (r.status === 409 || r.status === 422) throw gitError('ShaMismatch', `file ${path}`);
  }
}
