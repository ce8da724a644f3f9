import { Anchor, Button, Code, CopyButton, Group, PasswordInput, Select, SimpleGrid, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { request, send } from '../api';
import { useProject } from '../session';
import { ConfirmButton, DataTable, ErrorAlert, FormButton, Loading, PageTitle, Section, fmtTime, useWrite } from '../ui';

const REPO_TYPES = ['local', 'github', 'gitlab', 'gitee', 'bitbucket', 'devcloud'];

/** A Git API call through an authorization (X-Repo-Auth). */
export async function repoGet(path: string, auth: string, query?: Record<string, string>): Promise<any> {
  return (await request(path, { headers: { 'X-Repo-Auth': auth }, query })).body;
}

/** Git authorizations and the repositories each one sees (hosted ones for `local`). */
export function Git() {
  const p = useProject();
  const auths = useQuery({ queryKey: ['git-auths', p], queryFn: async () => (await request(`/v1/${p}/git/auths`)).body });
  const [params, setParams] = useSearchParams();
  const list: any[] = auths.data?.authorizations ?? [];
  const auth = params.get('auth') ?? list[0]?.name ?? '';
  return (
    <>
      <PageTitle title="Git repositories">
        <FormButton label="Add authorization" title="Add a Git authorization" data-testid="create-auth">
          {(close) => <AuthForm onDone={close} />}
        </FormButton>
      </PageTitle>
      <ErrorAlert error={auths.error} />
      <Section title="Authorizations">
        <DataTable
          testId="auths"
          rows={auths.data?.authorizations}
          rowKey={(a: any) => a.name}
          empty="No authorizations: add one of type local to host repositories on OpenStage."
          columns={[
            { title: 'Name', render: (a) => <Anchor onClick={() => setParams({ auth: a.name })}>{a.name}</Anchor> },
            { title: 'Type', render: (a) => a.repo_type },
            { title: 'Host', render: (a) => a.repo_host },
            { title: 'User', render: (a) => a.repo_user },
            { title: 'Created', render: (a) => fmtTime(a.create_time) },
            { title: '', render: (a) => <ConfirmButton label="Delete" color="red" title="Delete authorization" message={`Delete ${a.name}? Its credential stops working at once.`} action={() => send('DELETE', `/v1/${p}/git/auths/${encodeURIComponent(a.name)}`)} /> },
          ]}
        />
      </Section>
      {auth && <Repositories auth={auth} />}
    </>
  );
}

function Repositories({ auth }: { auth: string }) {
  const p = useProject();
  const repos = useQuery({
    queryKey: ['git-repos', p, auth],
    queryFn: async () => {
      const ns = await repoGet(`/v1/${p}/git/repos/namespaces`, auth);
      const out: any[] = [];
      for (const n of ns.namespaces ?? []) {
        const r = await repoGet(`/v1/${p}/git/repos/${encodeURIComponent(n.name)}/projects`, auth);
        out.push(...(r.projects ?? []).map((x: any) => ({ ...x, namespace: n.name })));
      }
      return { namespaces: ns.namespaces ?? [], repos: out };
    },
  });
  return (
    <Section
      title={`Repositories seen by ${auth}`}
      actions={
        <FormButton label="Create repository" title="Create a repository" variant="light" data-testid="create-repo">
          {(close) => <RepoForm auth={auth} namespaces={repos.data?.namespaces ?? []} onDone={close} />}
        </FormButton>
      }
    >
      <ErrorAlert error={repos.error} />
      <DataTable
        testId="repos"
        rows={repos.data?.repos}
        rowKey={(r: any) => r.clone_url}
        empty="No repositories."
        columns={[
          { title: 'Repository', render: (r) => <Anchor component={Link} to={`/git/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}?auth=${encodeURIComponent(auth)}`}>{r.namespace}/{r.name}</Anchor> },
          {
            title: 'Clone URL',
            render: (r) => (
              <Group gap={4} wrap="nowrap">
                <Code>{r.clone_url}</Code>
                <CopyButton value={r.clone_url}>{({ copied, copy }) => <Button size="compact-xs" variant="subtle" onClick={copy}>{copied ? 'copied' : 'copy'}</Button>}</CopyButton>
              </Group>
            ),
          },
        ]}
      />
    </Section>
  );
}

function AuthForm({ onDone }: { onDone: () => void }) {
  const p = useProject();
  const form = useForm({
    initialValues: { name: '', type: 'local', kind: 'password', user: '', secret: '', host: '' },
    validate: {
      name: (v) => (/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(v) ? null : 'Letters, digits, ., - and _'),
      user: (v, all) => (all.kind === 'password' && !v.trim() ? 'The user name is required' : null),
      secret: (v) => (v ? null : 'Required'),
    },
  });
  const write = useWrite((v: typeof form.values) => {
    const token = v.kind === 'password' ? btoa(`${v.user.trim()}:${v.secret}`) : v.secret;
    return send('POST', `/v1/${p}/git/auths/${v.type}/${v.kind}`, { name: v.name, token, ...(v.host.trim() ? { host: v.host.trim() } : {}) });
  }, onDone);
  return (
    <form onSubmit={form.onSubmit((v) => write.mutate(v))} noValidate>
      <Stack>
        <ErrorAlert error={write.error} />
        <TextInput label="Name" withAsterisk {...form.getInputProps('name')} />
        <SimpleGrid cols={2}>
          <Select label="Type" data={REPO_TYPES} allowDeselect={false} {...form.getInputProps('type')} />
          <Select label="Credential" data={[{ value: 'password', label: 'User and password' }, { value: 'personal', label: 'Personal token' }]} allowDeselect={false} {...form.getInputProps('kind')} />
        </SimpleGrid>
        {form.values.kind === 'password' && <TextInput label="User" withAsterisk {...form.getInputProps('user')} />}
        <PasswordInput label={form.values.kind === 'password' ? 'Password' : 'Token'} withAsterisk {...form.getInputProps('secret')} />
        {form.values.type !== 'local' && <TextInput label="Host" description="Only for a self-hosted server" {...form.getInputProps('host')} />}
        <Button type="submit" loading={write.isPending} data-testid="submit">
          Add
        </Button>
      </Stack>
    </form>
  );
}

function RepoForm({ auth, namespaces, onDone }: { auth: string; namespaces: any[]; onDone: () => void }) {
  const p = useProject();
  const form = useForm({
    initialValues: { namespace: namespaces[0]?.name ?? '', name: '' },
    validate: { namespace: (v) => (v.trim() ? null : 'The namespace is required'), name: (v) => (/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(v) ? null : 'Letters, digits, ., - and _') },
  });
  const write = useWrite(
    async (v: typeof form.values) => (await request(`/v1/${p}/git/repos/${encodeURIComponent(v.namespace.trim())}/projects`, { method: 'POST', headers: { 'X-Repo-Auth': auth }, body: { name: v.name } })).body,
    onDone,
  );
  return (
    <form onSubmit={form.onSubmit((v) => write.mutate(v))} noValidate>
      <Stack>
        <ErrorAlert error={write.error} />
        <TextInput label="Namespace" withAsterisk {...form.getInputProps('namespace')} />
        <TextInput label="Name" withAsterisk {...form.getInputProps('name')} />
        <Button type="submit" loading={write.isPending} data-testid="submit">
          Create
        </Button>
      </Stack>
    </form>
  );
}

/** One repository: clone URL, branches, tags, latest commits and a file browser. */
export function RepoPage() {
  const p = useProject();
  const { namespace = '', repo = '' } = useParams();
  const [params] = useSearchParams();
  const auth = params.get('auth') ?? '';
  const base = `/v1/${p}/git/repos/${encodeURIComponent(namespace)}/${encodeURIComponent(repo)}`;
  const branches = useQuery({ queryKey: ['branches', base, auth], queryFn: () => repoGet(`${base}/branches`, auth) });
  const tags = useQuery({ queryKey: ['tags', base, auth], queryFn: () => repoGet(`${base}/tags`, auth) });
  const info = useQuery({ queryKey: ['repo-projects', p, namespace, auth], queryFn: () => repoGet(`/v1/${p}/git/repos/${encodeURIComponent(namespace)}/projects`, auth) });
  const [ref, setRef] = useState<string | null>(null);
  const branchList: string[] = (branches.data?.branches ?? []).map((b: any) => (typeof b === 'string' ? b : b.name));
  const current = ref ?? branchList[0] ?? null;
  const commits = useQuery({ queryKey: ['commits', base, auth, current], enabled: !!current, queryFn: () => repoGet(`${base}/commits`, auth, { ref: current! }) });
  const files = `/v1/${p}/git/files/${encodeURIComponent(namespace)}/${encodeURIComponent(repo)}`;
  const tree = useQuery({ queryKey: ['tree', files, auth, current], enabled: !!current, queryFn: () => repoGet(`${files}/trees`, auth, { ref: current! }) });
  const [path, setPath] = useState<string>();
  const file = useQuery({ queryKey: ['file', files, auth, current, path], enabled: !!path && !!current, queryFn: () => repoGet(`${files}/${encodeURIComponent(path!.replaceAll('/', ':'))}`, auth, { ref: current! }) });
  const cloneUrl = (info.data?.projects ?? []).find((x: any) => x.name === repo)?.clone_url;
  const content = file.data ? (file.data.encoding === 'base64' ? decodeBase64(file.data.content) : file.data.content) : '';
  return (
    <>
      <PageTitle title={`Repository ${namespace}/${repo}`}>
        <Select aria-label="branch" size="xs" data={[...branchList, ...(tags.data?.tags ?? []).map((t: any) => (typeof t === 'string' ? t : t.name))]} value={current} onChange={setRef} data-testid="ref" />
      </PageTitle>
      <ErrorAlert error={branches.error ?? tree.error ?? file.error} />
      <Text size="sm">
        Clone URL: <Code data-testid="clone-url">{cloneUrl ?? '…'}</Code>
      </Text>
      <Text size="sm" mt={4}>
        Branches: {branchList.join(', ') || '—'} · Tags: {(tags.data?.tags ?? []).map((t: any) => (typeof t === 'string' ? t : t.name)).join(', ') || '—'}
      </Text>
      <Section title="Latest commits">
        <DataTable testId="commits" rows={commits.data?.commits} rowKey={(c: any) => c.sha} empty="No commits." columns={[
          { title: 'Commit', render: (c) => <Code>{c.sha.slice(0, 10)}</Code> },
          { title: 'Message', render: (c) => c.message },
          { title: 'Date', render: (c) => fmtTime(c.authored_date) },
        ]} />
      </Section>
      <Section title="Files">
        {!tree.data ? (
          current ? <Loading /> : <Text c="dimmed">The repository is empty: push to its clone URL.</Text>
        ) : (
          <SimpleGrid cols={{ base: 1, md: 2 }}>
            <Stack gap={2} data-testid="tree">
              {(tree.data.paths ?? []).map((f: string) => (
                <Anchor key={f} size="sm" ff="monospace" onClick={() => setPath(f)} fw={f === path ? 700 : undefined}>
                  {f}
                </Anchor>
              ))}
            </Stack>
            {path && (
              <pre data-testid="file-content" style={{ fontSize: 12, margin: 0, padding: 8, border: '1px solid var(--mantine-color-gray-3)', overflow: 'auto', maxHeight: 420 }}>
                {file.isLoading ? '…' : content}
              </pre>
            )}
          </SimpleGrid>
        )}
      </Section>
    </>
  );
}

function decodeBase64(b64: string): string {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}
