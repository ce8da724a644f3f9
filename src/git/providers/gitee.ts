import { gitError } from '../errors.js';
import type { CommitInfo, Credential, FileContent, FileWrite, Hook, HostUser, Namespace, ProjectInfo, ProjectRef, RepoKey, RepoProvider } from '../types.js';
import { b64, cloneUrlSegments, HostClient } from './http.js';

const PER_PAGE = 100;
const MAX_PAGES = 50;

/**
 * Gitee over its REST API v5 (gitee.com/api/v5/swagger): the token goes in the
 * `access_token` query parameter (password authorizations: HTTP Basic), namespaces are
 * `/user/namespaces` (the user, its organisations and enterprises), a project id is
 * `owner/repo` (`owner:repo` on the wire), lists are paged with `page`/`per_page` and the
 * `total_page` answer header, hooks carry the secret as `password` (X-Gitee-Token on
 * deliveries). A missing file answers 200 `[]` on Gitee; it is mapped to 0404.
 */
export class GiteeProvider implements RepoProvider {
  private readonly http: HostClient;
  private readonly token: string;
  private login?: string;

  constructor(base: string, cred: Credential, fetchFn: typeof fetch, timeoutMs: number) {
    this.token = cred.tokenType === 'password' ? '' : cred.secret;
    const headers: Record<string, string> = { 'user-agent': 'OpenStage' };
    if (cred.tokenType === 'password') headers.authorization = `Basic ${Buffer.from(`${cred.user}:${cred.secret}`).toString('base64')}`;
    this.http = new HostClient({
      base: base.replace(/\/+$/, ''),
      headers,
      fetch: fetchFn,
      timeoutMs,
      hostName: 'Gitee',
      isRateLimit: (r) => /rate limit|too many|频繁|次数/i.test(String(r.body?.message ?? '')),
    });
  }

  /** `path` with the token (and `extra` query parameters) added. */
  private q(path: string, extra: Record<string, string> = {}): string {
    const params = new URLSearchParams(extra);
    if (this.token) params.set('access_token', this.token);
    const qs = params.toString();
    return qs ? `${path}${path.includes('?') ? '&' : '?'}${qs}` : path;
  }

  /** Every item of a paged list: pages 1..`total_page` (or until a short page when the header is absent). */
  private async all(path: string, extra: Record<string, string> = {}): Promise<any[]> {
    const items: any[] = [];
    for (let page = 1; page <= MAX_PAGES; page += 1) {
      const r = await this.http.call('GET', this.q(path, { ...extra, page: String(page), per_page: String(PER_PAGE) }));
      const list = Array.isArray(r.body) ? (r.body as unknown[]) : [];
      items.push(...list);
      const totalPage = r.headers.get('total_page');
      const last = totalPage !== null && /^\d+$/.test(totalPage) ? page >= Number(totalPage) : list.length < PER_PAGE;
      if (last || list.length === 0) break;
    }
    return items;
  }

  private repoPath(repo: RepoKey): string {
    const full = repo.project.includes('/') ? repo.project : `${repo.namespace}/${repo.project}`;
    return `/repos/${full.split('/').map(encodeURIComponent).join('/')}`;
  }

  async currentUser(): Promise<HostUser> {
    const u = await this.http.get(this.q('/user'));
    this.login = String(u.login);
    return { login: String(u.login), home: String(u.html_url ?? ''), avatar: String(u.avatar_url ?? '') };
  }

  private async me(): Promise<string> {
    return this.login ?? (await this.currentUser()).login;
  }

  async namespaces(): Promise<Namespace[]> {
    return (await this.all('/user/namespaces')).map((n) => ({ id: String(n.path), name: String(n.path) }));
  }

  async projectInfo(cloneUrl: string): Promise<ProjectInfo> {
    const [owner, name] = cloneUrlSegments(cloneUrl);
    const r = await this.http.call('GET', this.q(`/repos/${encodeURIComponent(owner!)}/${encodeURIComponent(name!)}`), undefined, [404]);
    if (r.status === 404) throw gitError('CloneUrlInvalid', `${cloneUrl}: no such repository`);
    const ns = String(r.body.namespace?.path ?? r.body.owner?.login ?? owner);
    return { namespace_id: ns, namespace: ns, project_id: String(r.body.full_name), project: String(r.body.path ?? r.body.name) };
  }

  private toRef(r: any): ProjectRef {
    const web = String(r.html_url ?? '');
    return { id: String(r.full_name), name: String(r.path ?? r.name), clone_url: web.endsWith('.git') ? web : `${web}.git` };
  }

  /** The namespace's kind from `/user/namespaces`: personal, group (organisation) or enterprise. @throws NotFound */
  private async namespaceType(namespace: string): Promise<string> {
    if (namespace === (await this.me())) return 'personal';
    const ns = (await this.all('/user/namespaces')).find((n) => String(n.path) === namespace);
    if (!ns) throw gitError('NotFound', `Gitee namespace ${namespace}`);
    return String(ns.type);
  }

  async projects(namespace: string): Promise<ProjectRef[]> {
    const type = await this.namespaceType(namespace);
    const list =
      type === 'personal'
        ? (await this.all('/user/repos', { type: 'owner' })).filter((r) => String(r.namespace?.path ?? r.owner?.login) === namespace)
        : await this.all(type === 'enterprise' ? `/enterprises/${encodeURIComponent(namespace)}/repos` : `/orgs/${encodeURIComponent(namespace)}/repos`);
    return list.map((r) => this.toRef(r));
  }

  async createProject(namespace: string, name: string): Promise<ProjectRef> {
    const type = await this.namespaceType(namespace);
    const path = type === 'personal' ? '/user/repos' : type === 'enterprise' ? `/enterprises/${encodeURIComponent(namespace)}/repos` : `/orgs/${encodeURIComponent(namespace)}/repos`;
    const r = await this.http.call('POST', this.q(path), { name, path: name }, [400, 422]);
    if (r.status !== 201 && r.status !== 200) {
      if (/exist|已存在|taken/i.test(JSON.stringify(r.body ?? ''))) throw gitError('AlreadyExists', `repository ${namespace}/${name}`);
      throw gitError('InvalidParameter', `Gitee: ${String(r.body?.message ?? r.status)}`);
    }
    return this.toRef(r.body);
  }

  async branches(repo: RepoKey): Promise<string[]> {
    return (await this.all(`${this.repoPath(repo)}/branches`)).map((b) => String(b.name));
  }

  async tags(repo: RepoKey): Promise<string[]> {
    return (await this.all(`${this.repoPath(repo)}/tags`)).map((b) => String(b.name));
  }

  async createTag(repo: RepoKey, name: string, ref: string, message: string): Promise<void> {
    const r = await this.http.call('POST', this.q(`${this.repoPath(repo)}/tags`), { refs: ref, tag_name: name, tag_message: message }, [400, 422]);
    if (r.status === 400 || r.status === 422) {
      if (/exist|已存在/i.test(JSON.stringify(r.body ?? ''))) throw gitError('AlreadyExists', `tag ${name}`);
      throw gitError('InvalidParameter', `Gitee: ${String(r.body?.message ?? r.status)}`);
    }
  }

  /** INF: Gitee's v5 reference shows no tag delete; `DELETE /repos/{owner}/{repo}/tags/{tag}` is assumed. */
  async deleteTag(repo: RepoKey, name: string): Promise<void> {
    await this.http.call('DELETE', this.q(`${this.repoPath(repo)}/tags/${encodeURIComponent(name)}`));
  }

  async commits(repo: RepoKey, ref?: string): Promise<CommitInfo[]> {
    const list = (await this.http.get(this.q(`${this.repoPath(repo)}/commits`, { per_page: '10', page: '1', ...(ref ? { sha: ref } : {}) }))) as any[];
    return list.slice(0, 10).map((c) => ({ sha: String(c.sha), message: String(c.commit?.message ?? ''), authored_date: String(c.commit?.author?.date ?? '') }));
  }

  async hooks(repo: RepoKey): Promise<Hook[]> {
    return (await this.all(`${this.repoPath(repo)}/hooks`)).map((h) => ({ id: String(h.id), type: 'gitee', callback_url: String(h.url ?? '') }));
  }

  async createHook(repo: RepoKey, url: string, secret: string): Promise<Hook> {
    const h = (await this.http.call('POST', this.q(`${this.repoPath(repo)}/hooks`), { url, encryption_type: 0, password: secret, push_events: true, tag_push_events: false })).body;
    return { id: String(h.id), type: 'gitee', callback_url: String(h.url ?? url) };
  }

  async deleteHook(repo: RepoKey, id: string): Promise<void> {
    await this.http.call('DELETE', this.q(`${this.repoPath(repo)}/hooks/${encodeURIComponent(id)}`));
  }

  async tree(repo: RepoKey, ref: string): Promise<string[]> {
    const t = await this.http.get(this.q(`${this.repoPath(repo)}/git/trees/${encodeURIComponent(ref)}`, { recursive: '1' }));
    return ((t?.tree ?? []) as any[]).filter((e) => e.type === 'blob').map((e) => String(e.path));
  }

  private contentsPath(repo: RepoKey, path: string): string {
    return `${this.repoPath(repo)}/contents/${path.split('/').map(encodeURIComponent).join('/')}`;
  }

  async getFile(repo: RepoKey, path: string, ref: string): Promise<FileContent> {
    const f = await this.http.get(this.q(this.contentsPath(repo, path), { ref }));
    if (!f || Array.isArray(f) || f.type !== 'file') throw gitError('NotFound', `file ${path}`);
    return { path: String(f.path), sha: String(f.sha), encoding: 'base64', content: String(f.content ?? '').replace(/\s+/g, '') };
  }

  async createFile(repo: RepoKey, path: string, write: FileWrite): Promise<void> {
    const r = await this.http.call('POST', this.q(this.contentsPath(repo, path)), { content: b64(write.content), message: write.message, branch: write.ref }, [400, 422]);
    if (r.status === 400 || r.status === 422) {
      if (/exist|已存在/i.test(JSON.stringify(r.body ?? ''))) throw gitError('AlreadyExists', `file ${path}`);
      throw gitError('InvalidParameter', `Gitee: ${String(r.body?.message ?? r.status)}`);
    }
  }

  /** The blob sha is compared first (Gitee's own check is loose); a host refusal of the sha is 0409 too. */
  private async checkSha(repo: RepoKey, path: string, ref: string, sha: string | undefined): Promise<void> {
    const current = await this.getFile(repo, path, ref);
    if (current.sha !== sha) throw gitError('ShaMismatch', `file ${path} is at ${current.sha}`);
  }

  async updateFile(repo: RepoKey, path: string, write: FileWrite): Promise<void> {
    await this.checkSha(repo, path, write.ref, write.sha);
    const r = await this.http.call('PUT', this.q(this.contentsPath(repo, path)), { content: b64(write.content), sha: write.sha, message: write.message, branch: write.ref }, [400, 409, 422]);
    if (r.status >= 400) throw gitError('ShaMismatch', `file ${path}: ${String(r.body?.message ?? r.status)}`);
  }

  async deleteFile(repo: RepoKey, path: string, write: Omit<FileWrite, 'content'>): Promise<void> {
    await this.checkSha(repo, path, write.ref, write.sha);
    const r = await this.http.call('DELETE', this.q(this.contentsPath(repo, path), { sha: write.sha ?? '', message: write.message, branch: write.ref }), undefined, [400, 409, 422]);
    if (r.status >= 400) throw gitError('ShaMismatch', `file ${path}: ${String(r.body?.message ?? r.status)}`);
  }
}
