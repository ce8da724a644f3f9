import { gitError } from '../errors.js';
import type { CommitInfo, Credential, FileContent, FileWrite, Hook, HostUser, Namespace, ProjectInfo, ProjectRef, RepoKey, RepoProvider } from '../types.js';
import { b64, cloneUrlSegments, HostClient } from './http.js';

/**
 * GitLab (gitlab.com or self-hosted) over its REST API v4 (docs.gitlab.com/api): personal
 * tokens go in `PRIVATE-TOKEN`, OAuth tokens as Bearer; namespaces are `/namespaces`; a
 * project id is GitLab's numeric id or its full path (`group:sub:repo` on the wire); lists
 * follow the Link header; hooks carry the secret as `token` (X-Gitlab-Token on deliveries).
 */
export class GitlabProvider implements RepoProvider {
  private readonly http: HostClient;

  constructor(base: string, cred: Credential, fetchFn: typeof fetch, timeoutMs: number) {
    const headers: Record<string, string> = cred.tokenType === 'oauth' ? { authorization: `Bearer ${cred.secret}` } : { 'private-token': cred.secret };
    this.http = new HostClient({ base: base.replace(/\/+$/, ''), headers: { ...headers, 'user-agent': 'OpenStage' }, fetch: fetchFn, timeoutMs, hostName: 'GitLab' });
  }

  private projectPath(repo: RepoKey): string {
    const id = /^\d+$/.test(repo.project) || repo.project.includes('/') ? repo.project : `${repo.namespace}/${repo.project}`;
    return `/projects/${encodeURIComponent(id)}`;
  }

  async currentUser(): Promise<HostUser> {
    const u = await this.http.get('/user');
    return { login: String(u.username), home: String(u.web_url ?? ''), avatar: String(u.avatar_url ?? '') };
  }

  async namespaces(): Promise<Namespace[]> {
    return (await this.http.all('/namespaces?per_page=100')).map((n) => ({ id: String(n.id), name: String(n.full_path ?? n.path) }));
  }

  async projectInfo(cloneUrl: string): Promise<ProjectInfo> {
    const path = cloneUrlSegments(cloneUrl).join('/');
    const r = await this.http.call('GET', `/projects/${encodeURIComponent(path)}`, undefined, [404]);
    if (r.status === 404) throw gitError('CloneUrlInvalid', `${cloneUrl}: no such repository`);
    return { namespace_id: String(r.body.namespace?.id), namespace: String(r.body.namespace?.full_path ?? ''), project_id: String(r.body.id), project: String(r.body.name) };
  }

  private toRef(p: any): ProjectRef {
    return { id: String(p.id), name: String(p.name), clone_url: String(p.http_url_to_repo) };
  }

  async projects(namespace: string): Promise<ProjectRef[]> {
    const ns = await this.http.get(`/namespaces/${encodeURIComponent(namespace)}`);
    const path = ns.kind === 'user' ? `/users/${encodeURIComponent(String(ns.path))}/projects` : `/groups/${encodeURIComponent(String(ns.id))}/projects`;
    return (await this.http.all(`${path}?per_page=100`)).map((p) => this.toRef(p));
  }

  async createProject(namespace: string, name: string): Promise<ProjectRef> {
    const ns = await this.http.get(`/namespaces/${encodeURIComponent(namespace)}`);
    const r = await this.http.call('POST', '/projects', { name, path: name, namespace_id: ns.id }, [400]);
    if (r.status === 400) {
      if (/already been taken|already exists/i.test(JSON.stringify(r.body ?? ''))) throw gitError('AlreadyExists', `project ${namespace}/${name}`);
      throw gitError('InvalidParameter', `GitLab: ${JSON.stringify(r.body?.message ?? r.body ?? '')}`);
    }
    return this.toRef(r.body);
  }

  async branches(repo: RepoKey): Promise<string[]> {
    return (await this.http.all(`${this.projectPath(repo)}/repository/branches?per_page=100`)).map((b) => String(b.name));
  }

  async tags(repo: RepoKey): Promise<string[]> {
    return (await this.http.all(`${this.projectPath(repo)}/repository/tags?per_page=100`)).map((b) => String(b.name));
  }

  async createTag(repo: RepoKey, name: string, ref: string, message: string): Promise<void> {
    const r = await this.http.call('POST', `${this.projectPath(repo)}/repository/tags`, { tag_name: name, ref, message }, [400]);
    if (r.status === 400) {
      if (/already exists/i.test(JSON.stringify(r.body ?? ''))) throw gitError('AlreadyExists', `tag ${name}`);
      throw gitError('InvalidParameter', `GitLab: ${JSON.stringify(r.body?.message ?? '')}`);
    }
  }

  async deleteTag(repo: RepoKey, name: string): Promise<void> {
    await this.http.call('DELETE', `${this.projectPath(repo)}/repository/tags/${encodeURIComponent(name)}`);
  }

  async commits(repo: RepoKey, ref?: string): Promise<CommitInfo[]> {
    const list = (await this.http.get(`${this.projectPath(repo)}/repository/commits?per_page=10${ref ? `&ref_name=${encodeURIComponent(ref)}` : ''}`)) as any[];
    return list.slice(0, 10).map((c) => ({ sha: String(c.id), message: String(c.message ?? ''), authored_date: String(c.authored_date ?? '') }));
  }

  async hooks(repo: RepoKey): Promise<Hook[]> {
    return (await this.http.all(`${this.projectPath(repo)}/hooks?per_page=100`)).map((h) => ({ id: String(h.id), type: 'gitlab', callback_url: String(h.url) }));
  }

  async createHook(repo: RepoKey, url: string, secret: string): Promise<Hook> {
    const h = (await this.http.call('POST', `${this.projectPath(repo)}/hooks`, { url, token: secret, push_events: true, tag_push_events: false })).body;
    return { id: String(h.id), type: 'gitlab', callback_url: String(h.url ?? url) };
  }

  async deleteHook(repo: RepoKey, id: string): Promise<void> {
    await this.http.call('DELETE', `${this.projectPath(repo)}/hooks/${encodeURIComponent(id)}`);
  }

  async tree(repo: RepoKey, ref: string): Promise<string[]> {
    const entries = await this.http.all(`${this.projectPath(repo)}/repository/tree?recursive=true&per_page=100&ref=${encodeURIComponent(ref)}`);
    return entries.filter((e) => e.type === 'blob').map((e) => String(e.path));
  }

  private filePath(repo: RepoKey, path: string): string {
    return `${this.projectPath(repo)}/repository/files/${encodeURIComponent(path)}`;
  }

  async getFile(repo: RepoKey, path: string, ref: string): Promise<FileContent> {
    const f = await this.http.get(`${this.filePath(repo, path)}?ref=${encodeURIComponent(ref)}`);
    return { path: String(f.file_path), sha: String(f.blob_id), encoding: 'base64', content: String(f.content ?? '') };
  }

  async createFile(repo: RepoKey, path: string, write: FileWrite): Promise<void> {
    const r = await this.http.call('POST', this.filePath(repo, path), { branch: write.ref, content: b64(write.content), encoding: 'base64', commit_message: write.message }, [400]);
    if (r.status === 400) {
      if (/already exists/i.test(JSON.stringify(r.body ?? ''))) throw gitError('AlreadyExists', `file ${path}`);
      throw gitError('InvalidParameter', `GitLab: ${JSON.stringify(r.body?.message ?? '')}`);
    }
  }

  /** GitLab checks `last_commit_id`, not the blob: the blob sha is compared first. */
  private async checkSha(repo: RepoKey, path: string, ref: string, sha: string | undefined): Promise<void> {
    const current = await this.getFile(repo, path, ref);
    if (current.sha !== sha) throw gitError('ShaMismatch', `file ${path} is at ${current.sha}`);
  }

  async updateFile(repo: RepoKey, path: string, write: FileWrite): Promise<void> {
    await this.checkSha(repo, path, write.ref, write.sha);
    await this.http.call('PUT', this.filePath(repo, path), { branch: write.ref, content: b64(write.content), encoding: 'base64', commit_message: write.message });
  }

  async deleteFile(repo: RepoKey, path: string, write: Omit<FileWrite, 'content'>): Promise<void> {
    await this.checkSha(repo, path, write.ref, write.sha);
    await this.http.call('DELETE', this.filePath(repo, path), { branch: write.ref, commit_message: write.message });
  }
}
