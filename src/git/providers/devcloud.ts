import { gitError } from '../errors.js';
import type { CommitInfo, Credential, FileContent, FileWrite, Hook, HostUser, Namespace, ProjectInfo, ProjectRef, RepoKey, RepoProvider } from '../types.js';
import { b64, cloneUrlSegments, HostClient, type HostReply } from './http.js';

const PAGE = 100;
const MAX_PAGES = 50;

/**
 * Huawei Cloud CodeArts Repo (formerly DevCloud CodeHub) over its v1/v2 REST API (the
 * `codehub` API of the Huawei Cloud SDKs; endpoint `https://codehub-ext.<region>.myhuaweicloud.com`,
 * `git.devcloudApiUrl` or the authorization's `host`). The credential is an IAM token sent
 * as `X-Auth-Token` (password authorizations: HTTP Basic, INF). Answers are wrapped as
 * `{result, status: "success"|"failed", error: {code, message}}`; API gateway failures as
 * `{error_code, error_msg}`. A namespace is a repository group (the clone URL segment before
 * the repository name) whose id is its CodeArts project's `project_uuid`; a project id is the
 * numeric `repository_id`. Lists page with `page`/`per_page` (branches) or
 * `page_index`/`page_size` (repositories) against `result.total`.
 *
 * Endpoints: `GET /v2/projects/repositories` (the user's repositories, hence namespaces),
 * `GET /v2/projects/{project_uuid}/repositories`, `POST /v1/repositories`,
 * `GET /v2/repositories/{repository_uuid}`, `GET /v1/repositories/repoid?group_name&repository_name`,
 * `GET /v2/repositories/{id}/branches`, `GET|POST /v2/repositories/{id}/tags`,
 * `GET /v2/projects/{id}/repository/commits`, `GET|POST|DELETE /v1/repositories/{group}/{repo}/hooks[/{hook_id}]`,
 * `GET /v2/projects/{id}/repository/files/{path}`, `POST /v2/projects/{id}/repository/commits` (file actions).
 * INF (no v1/v2 operation): tag delete `DELETE /v4/repositories/{id}/repository/tags/{tag}` and tree
 * `GET /v4/repositories/{id}/repository/trees?ref&recursive=true` (CodeArts Repo v4).
 */
export class DevcloudProvider implements RepoProvider {
  private readonly http: HostClient;

  constructor(
    base: string,
    private readonly cred: Credential,
    fetchFn: typeof fetch,
    timeoutMs: number,
  ) {
    const headers: Record<string, string> = cred.tokenType === 'password' ? { authorization: `Basic ${Buffer.from(`${cred.user}:${cred.secret}`).toString('base64')}` } : { 'x-auth-token': cred.secret };
    this.http = new HostClient({
      base: base.replace(/\/+$/, ''),
      headers: { ...headers, 'user-agent': 'OpenStage' },
      fetch: fetchFn,
      timeoutMs,
      hostName: 'CodeArts Repo',
      isRateLimit: (r) => /APIGW\.0308|throttl/i.test(JSON.stringify(r.body ?? '')),
    });
  }

  /** `result` of an answer; a 400 or `status: "failed"` answer throws (not found → 0404, exists → 0403, 400 → 0400, otherwise 0502). */
  private result(r: HostReply): any {
    if (r.status >= 400 || r.body?.status === 'failed' || (r.body?.error && r.body?.result === undefined)) {
      const message = String(r.body?.error?.message ?? r.body?.error?.code ?? r.body?.error_msg ?? r.status);
      if (/not ?exist|not found|不存在/i.test(message)) throw gitError('NotFound', `CodeArts Repo: ${message}`);
      if (/already|exist|已存在/i.test(message)) throw gitError('AlreadyExists', `CodeArts Repo: ${message}`);
      throw gitError(r.status === 400 ? 'InvalidParameter' : 'HostError', `CodeArts Repo: ${message}`);
    }
    return r.body?.result;
  }

  private async get(path: string): Promise<any> {
    return this.result(await this.http.call('GET', path));
  }

  /** Every item of `result[key]` over pages until `result.total` items (or a short page). */
  private async all(path: string, key: string, pageParam: string, sizeParam: string): Promise<any[]> {
    const items: any[] = [];
    const sep = path.includes('?') ? '&' : '?';
    for (let page = 1; page <= MAX_PAGES; page += 1) {
      const res = await this.get(`${path}${sep}${pageParam}=${page}&${sizeParam}=${PAGE}`);
      const list = Array.isArray(res?.[key]) ? (res[key] as unknown[]) : [];
      items.push(...list);
      const total = typeof res?.total === 'number' ? res.total : undefined;
      if (list.length === 0 || (total !== undefined ? items.length >= total : list.length < PAGE)) break;
    }
    return items;
  }

  /** INF: CodeArts Repo has no "current user" operation; the token is checked by listing the user's repositories. */
  async currentUser(): Promise<HostUser> {
    const res = await this.get('/v2/projects/repositories?page_index=1&page_size=1');
    const first = Array.isArray(res?.repositories) ? res.repositories[0] : undefined;
    return { login: this.cred.user || String(first?.creator_name ?? ''), home: '', avatar: '' };
  }

  private async repositories(): Promise<any[]> {
    return this.all('/v2/projects/repositories', 'repositories', 'page_index', 'page_size');
  }

  async namespaces(): Promise<Namespace[]> {
    const seen = new Map<string, Namespace>();
    for (const r of await this.repositories()) {
      const id = String(r.project_uuid ?? '');
      if (id && !seen.has(id)) seen.set(id, { id, name: String(r.group_name ?? id) });
    }
    return [...seen.values()];
  }

  /** The numeric repository id of a group and repository name. @throws NotFound */
  private async repoIdOf(group: string, name: string): Promise<string> {
    const id = await this.get(`/v1/repositories/repoid?group_name=${encodeURIComponent(group)}&repository_name=${encodeURIComponent(name)}`);
    if (id === undefined || id === null || id === '') throw gitError('NotFound', `repository ${group}/${name}`);
    return String(id);
  }

  /** The repository id of a key: the numeric project id as given, else looked up by group and name. */
  private async id(repo: RepoKey): Promise<string> {
    if (/^\d+$/.test(repo.project)) return repo.project;
    const [group, name] = repo.project.includes('/') ? [repo.project.slice(0, repo.project.lastIndexOf('/')), repo.project.slice(repo.project.lastIndexOf('/') + 1)] : [repo.namespace, repo.project];
    return this.repoIdOf(group!, name!);
  }

  /** Group and repository name of a key (hooks are addressed by them): the repository list maps a numeric id back. */
  private async names(repo: RepoKey): Promise<[string, string]> {
    if (!/^\d+$/.test(repo.project)) {
      if (repo.project.includes('/')) return [repo.project.slice(0, repo.project.lastIndexOf('/')), repo.project.slice(repo.project.lastIndexOf('/') + 1)];
      return [repo.namespace, repo.project];
    }
    const r = (await this.repositories()).find((x) => String(x.repository_id) === repo.project);
    if (!r) throw gitError('NotFound', `repository ${repo.project}`);
    return [String(r.group_name), String(r.repository_name)];
  }

  async projectInfo(cloneUrl: string): Promise<ProjectInfo> {
    const segments = cloneUrlSegments(cloneUrl);
    const name = segments[segments.length - 1]!;
    const group = segments.slice(0, -1).join('/');
    let id: string;
    try {
      id = await this.repoIdOf(group, name);
    } catch (err) {
      if ((err as { code?: string }).code === 'SVCSTG.REPO.0404') throw gitError('CloneUrlInvalid', `${cloneUrl}: no such repository`);
      throw err;
    }
    const r = (await this.repositories()).find((x) => String(x.repository_id) === id);
    return { namespace_id: String(r?.project_uuid ?? group), namespace: group, project_id: id, project: name };
  }

  private toRef(r: any): ProjectRef {
    return { id: String(r.repository_id), name: String(r.repository_name), clone_url: String(r.https_url ?? '') };
  }

  /** A namespace given by name (group) is turned into its project_uuid. */
  private async projectUuid(namespace: string): Promise<string> {
    if (/^[0-9a-f]{32}$/i.test(namespace)) return namespace;
    const ns = (await this.namespaces()).find((n) => n.name === namespace);
    if (!ns) throw gitError('NotFound', `CodeArts Repo namespace ${namespace}`);
    return ns.id;
  }

  async projects(namespace: string): Promise<ProjectRef[]> {
    const uuid = await this.projectUuid(namespace);
    return (await this.all(`/v2/projects/${encodeURIComponent(uuid)}/repositories`, 'repositories', 'page_index', 'page_size')).map((r) => this.toRef(r));
  }

  async createProject(namespace: string, name: string): Promise<ProjectRef> {
    const uuid = await this.projectUuid(namespace);
    const created = this.result(await this.http.call('POST', '/v1/repositories', { name, project_uuid: uuid, template_id: '', enable_readme: 0, import_members: 0, visibility_level: 0 }, [400]));
    const info = await this.get(`/v2/repositories/${encodeURIComponent(String(created?.repository_uuid ?? ''))}`);
    return this.toRef(info);
  }

  async branches(repo: RepoKey): Promise<string[]> {
    return (await this.all(`/v2/repositories/${await this.id(repo)}/branches`, 'branches', 'page', 'per_page')).map((b) => String(b.name));
  }

  async tags(repo: RepoKey): Promise<string[]> {
    const res = await this.get(`/v2/repositories/${await this.id(repo)}/tags`);
    return ((res?.tags ?? []) as any[]).map((t) => String(t.name));
  }

  async createTag(repo: RepoKey, name: string, ref: string, message: string): Promise<void> {
    this.result(await this.http.call('POST', `/v2/repositories/${await this.id(repo)}/tags`, { tag_name: name, ref, message }, [400]));
  }

  /** INF: the v4 operation (v1/v2 have none). */
  async deleteTag(repo: RepoKey, name: string): Promise<void> {
    await this.http.call('DELETE', `/v4/repositories/${await this.id(repo)}/repository/tags/${encodeURIComponent(name)}`);
  }

  async commits(repo: RepoKey, ref?: string): Promise<CommitInfo[]> {
    const list = (await this.get(`/v2/projects/${await this.id(repo)}/repository/commits?page=1&per_page=10${ref ? `&ref_name=${encodeURIComponent(ref)}` : ''}`)) as any[];
    return (list ?? []).slice(0, 10).map((c) => ({ sha: String(c.id), message: String(c.message ?? ''), authored_date: String(c.authored_date ?? '') }));
  }

  private async hooksPath(repo: RepoKey): Promise<string> {
    const [group, name] = await this.names(repo);
    return `/v1/repositories/${encodeURIComponent(group)}/${encodeURIComponent(name)}/hooks`;
  }

  /** INF: the documented hook object carries no URL; `url`/`hook_url` are read when present. */
  async hooks(repo: RepoKey): Promise<Hook[]> {
    const res = await this.get(await this.hooksPath(repo));
    return ((res?.hooks ?? []) as any[]).map((h) => ({ id: String(h.id), type: 'devcloud', callback_url: String(h.url ?? h.hook_url ?? '') }));
  }

  /** The secret goes in `token` (INF: sent back as X-Repo-Token on deliveries, like GitLab's X-Gitlab-Token). */
  async createHook(repo: RepoKey, url: string, secret: string): Promise<Hook> {
    const h = this.result(await this.http.call('POST', await this.hooksPath(repo), { hook_url: url, token: secret, service: 'OpenStage', hook_events: ['push_events'] }));
    return { id: String(h?.id), type: 'devcloud', callback_url: String(h?.url ?? h?.hook_url ?? url) };
  }

  async deleteHook(repo: RepoKey, id: string): Promise<void> {
    this.result(await this.http.call('DELETE', `${await this.hooksPath(repo)}/${encodeURIComponent(id)}`));
  }

  /** INF: the v4 tree operation, GitLab-shaped entries `{path, type: blob|tree}`, paged with `page`/`per_page`. */
  async tree(repo: RepoKey, ref: string): Promise<string[]> {
    const id = await this.id(repo);
    const entries: any[] = [];
    for (let page = 1; page <= MAX_PAGES; page += 1) {
      const r = await this.http.call('GET', `/v4/repositories/${id}/repository/trees?ref=${encodeURIComponent(ref)}&recursive=true&page=${page}&per_page=${PAGE}`);
      const list = Array.isArray(r.body) ? (r.body as any[]) : Array.isArray(r.body?.result) ? (r.body.result as any[]) : [];
      entries.push(...list);
      if (list.length < PAGE) break;
    }
    return entries.filter((e) => e.type === 'blob').map((e) => String(e.path));
  }

  async getFile(repo: RepoKey, path: string, ref: string): Promise<FileContent> {
    const f = await this.file(await this.id(repo), path, ref);
    return { path: String(f.file_path ?? path), sha: String(f.blob_id), encoding: 'base64', content: String(f.content ?? '') };
  }

  private async file(id: string, path: string, ref: string): Promise<any> {
    const f = await this.get(`/v2/projects/${id}/repository/files/${encodeURIComponent(path)}?ref=${encodeURIComponent(ref)}`);
    if (!f || typeof f !== 'object') throw gitError('NotFound', `file ${path}`);
    return f;
  }

  private async commit(id: string, write: { ref: string; message: string }, action: Record<string, unknown>): Promise<void> {
    this.result(await this.http.call('POST', `/v2/projects/${id}/repository/commits`, { branch: write.ref, commit_message: write.message, actions: [action] }, [400]));
  }

  async createFile(repo: RepoKey, path: string, write: FileWrite): Promise<void> {
    const id = await this.id(repo);
    const existing = await this.http.call('GET', `/v2/projects/${id}/repository/files/${encodeURIComponent(path)}?ref=${encodeURIComponent(write.ref)}`, undefined, [404]);
    if (existing.status !== 404 && existing.body?.status !== 'failed' && existing.body?.result) throw gitError('AlreadyExists', `file ${path}`);
    await this.commit(id, write, { action: 'create', file_path: path, content: b64(write.content), encoding: 'base64' });
  }

  /** The blob id is compared first; the file's `last_commit_id` then guards the commit against a concurrent change. */
  private async checked(id: string, path: string, ref: string, sha: string | undefined): Promise<string> {
    const f = await this.file(id, path, ref);
    if (String(f.blob_id) !== sha) throw gitError('ShaMismatch', `file ${path} is at ${String(f.blob_id)}`);
    return String(f.last_commit_id ?? '');
  }

  async updateFile(repo: RepoKey, path: string, write: FileWrite): Promise<void> {
    const id = await this.id(repo);
    const last = await this.checked(id, path, write.ref, write.sha);
    await this.commit(id, write, { action: 'update', file_path: path, content: b64(write.content), encoding: 'base64', ...(last ? { last_commit_id: last } : {}) });
  }

  async deleteFile(repo: RepoKey, path: string, write: Omit<FileWrite, 'content'>): Promise<void> {
    const id = await this.id(repo);
    const last = await this.checked(id, path, write.ref, write.sha);
    await this.commit(id, write, { action: 'delete', file_path: path, ...(last ? { last_commit_id: last } : {}) });
  }
}
