import { Anchor, Button, Code, Group, NumberInput, SegmentedControl, Select, SimpleGrid, Stack, Text, TextInput, Textarea } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { get, request, send } from '../api';
import { useProject } from '../session';
import { ConfirmButton, DataTable, ErrorAlert, FilterInput, FormButton, Loading, PageTitle, Pager, Section, StatusBadge, fmtTime, labelsText, parsePairs, useWrite } from '../ui';
import { nameRule } from './environments';

const PAGE = 10;
const VERSION = /^\d+\.\d+\.\d+(\.\d+)?$/;

/** Applications: list (paged on the server), create. */
export function Applications() {
  const p = useProject();
  const [page, setPage] = useState(1);
  const list = useQuery({ queryKey: ['apps', p, page], queryFn: () => get(`/v3/${p}/cas/applications`, { limit: PAGE, offset: (page - 1) * PAGE }) });
  const navigate = useNavigate();
  return (
    <>
      <PageTitle title="Applications">
        <FormButton label="Create application" title="Create application" data-testid="create-application">
          {(close) => <ApplicationForm onDone={(a) => (close(), navigate(`/applications/${a.id}`))} />}
        </FormButton>
      </PageTitle>
      <ErrorAlert error={list.error} />
      <DataTable
        testId="applications"
        rows={list.data?.applications}
        rowKey={(a: any) => a.id}
        empty="No applications yet."
        columns={[
          { title: 'Name', render: (a) => <Anchor component={Link} to={`/applications/${a.id}`}>{a.name}</Anchor> },
          { title: 'Components', render: (a) => a.component_count ?? 0 },
          { title: 'Labels', render: (a) => labelsText(a.labels) },
          { title: 'Description', render: (a) => a.description },
          { title: 'Created', render: (a) => fmtTime(a.create_time) },
        ]}
      />
      {list.data && <Pager total={list.data.count} page={page} pageSize={PAGE} onChange={setPage} />}
    </>
  );
}

function ApplicationForm({ app, onDone }: { app?: any; onDone: (a: any) => void }) {
  const p = useProject();
  const form = useForm({
    initialValues: { name: app?.name ?? '', description: app?.description ?? '' },
    validate: { name: nameRule, description: (v) => (v.length <= 128 ? null : 'At most 128 characters') },
  });
  const write = useWrite((v: typeof form.values) => (app ? send('PUT', `/v3/${p}/cas/applications/${app.id}`, v) : send('POST', `/v3/${p}/cas/applications`, v)), onDone);
  return (
    <form onSubmit={form.onSubmit((v) => write.mutate(v))} noValidate>
      <Stack>
        <ErrorAlert error={write.error} />
        <TextInput label="Name" withAsterisk {...form.getInputProps('name')} />
        <TextInput label="Description" {...form.getInputProps('description')} />
        <Button type="submit" loading={write.isPending} data-testid="submit">
          {app ? 'Save' : 'Create'}
        </Button>
      </Stack>
    </form>
  );
}

const componentColumns = [
  { title: 'Component', render: (c: any) => <Anchor component={Link} to={`/applications/${c.application_id}/components/${c.id}`}>{c.name}</Anchor> },
  { title: 'Environment', render: (c: any) => c.environment_name },
  { title: 'Stack', render: (c: any) => c.runtime_stack?.name },
  { title: 'Version', render: (c: any) => c.version },
  { title: 'Replicas', render: (c: any) => `${c.status.available_replica}/${c.status.replica}` },
  { title: 'Status', render: (c: any) => <StatusBadge status={c.status.component_status} /> },
];

/** Every component of the project, filtered by component or application name on the server. */
export function Components() {
  const p = useProject();
  const [page, setPage] = useState(1);
  const [name, setName] = useState('');
  const [app, setApp] = useState('');
  const list = useQuery({
    queryKey: ['components', p, page, name, app],
    queryFn: () => get(`/v3/${p}/cas/components`, { limit: PAGE, offset: (page - 1) * PAGE, component_name: name || undefined, application_name: app || undefined }),
    refetchInterval: 5000,
  });
  return (
    <>
      <PageTitle title="Components">
        <FilterInput placeholder="Component name" value={name} onChange={(v) => (setName(v), setPage(1))} />
        <FilterInput placeholder="Application name" value={app} onChange={(v) => (setApp(v), setPage(1))} />
      </PageTitle>
      <ErrorAlert error={list.error} />
      <DataTable testId="components" rows={list.data?.components} rowKey={(c: any) => c.id} empty="No components match." columns={[...componentColumns, { title: 'Application', render: (c: any) => c.application_name }]} />
      {list.data && <Pager total={list.data.count} page={page} pageSize={PAGE} onChange={setPage} />}
    </>
  );
}

/** One application: its components (create one here), its environment variables per environment. */
export function ApplicationPage() {
  const p = useProject();
  const { id } = useParams();
  const navigate = useNavigate();
  const base = `/v3/${p}/cas/applications/${id}`;
  const [page, setPage] = useState(1);
  const app = useQuery({ queryKey: ['app', p, id], queryFn: () => get(base) });
  const comps = useQuery({ queryKey: ['app-components', p, id, page], queryFn: () => get(`${base}/components`, { limit: PAGE, offset: (page - 1) * PAGE }), refetchInterval: 5000 });
  const conf = useQuery({ queryKey: ['app-conf', p, id], queryFn: () => get(`${base}/configuration`) });
  if (app.error) return <ErrorAlert error={app.error} />;
  if (!app.data) return <Loading />;
  const a = app.data;
  return (
    <>
      <PageTitle title={`Application ${a.name}`}>
        <FormButton label="Create component" title={`Create a component of ${a.name}`} size="xl" data-testid="create-component">
          {(close) => <ComponentForm appId={a.id} onDone={(r) => (close(), navigate(`/applications/${a.id}/components/${r.component_id}`))} />}
        </FormButton>
        <FormButton label="Edit" title="Edit application" variant="light">
          {(close) => <ApplicationForm app={a} onDone={close} />}
        </FormButton>
        <ConfirmButton label="Delete" color="red" title="Delete application" message={`Delete ${a.name}?`} action={() => send('DELETE', base)} onDone={() => navigate('/applications')} />
      </PageTitle>
      <Text c="dimmed" size="sm">
        <Code>{a.id}</Code> · created {fmtTime(a.create_time)} by {a.creator} {a.description && `· ${a.description}`}
      </Text>
      <Section title="Components">
        <ErrorAlert error={comps.error} />
        <DataTable testId="components" rows={comps.data?.components} rowKey={(c: any) => c.id} empty="No components yet: create one from a repository, a package or an image." columns={componentColumns} />
        {comps.data && <Pager total={comps.data.count} page={page} pageSize={PAGE} onChange={setPage} />}
      </Section>
      <Section
        title="Environment variables per environment"
        actions={
          <FormButton label="Set variables" title="Application variables in an environment" variant="light">
            {(close) => <AppConfigForm base={base} onDone={close} />}
          </FormButton>
        }
      >
        <DataTable
          testId="app-configuration"
          rows={conf.data?.configuration}
          rowKey={(c: any) => c.environment_id}
          empty="No variables set."
          columns={[
            { title: 'Environment', render: (c) => <Code>{c.environment_id}</Code> },
            { title: 'Variables', render: (c) => <Text size="xs" ff="monospace">{(c.configuration?.env ?? []).map((e: any) => `${e.name}=${e.value}`).join('  ')}</Text> },
            { title: '', render: (c) => <ConfirmButton label="Remove" color="red" title="Remove variables" message="Remove this environment's variables?" action={() => send('DELETE', `${base}/configuration`, undefined, { environment_id: c.environment_id })} /> },
          ]}
        />
      </Section>
    </>
  );
}

function useEnvironmentOptions() {
  const p = useProject();
  const envs = useQuery({ queryKey: ['envs', p, 'all'], queryFn: () => get(`/v3/${p}/cas/environments`, { limit: 100 }) });
  return (envs.data?.environments ?? []).map((e: any) => ({ value: e.id, label: e.name }));
}

function AppConfigForm({ base, onDone }: { base: string; onDone: () => void }) {
  const envs = useEnvironmentOptions();
  const form = useForm({
    initialValues: { environment_id: '', env: '' },
    validate: { environment_id: (v) => (v ? null : 'Choose an environment'), env: pairsRule('variable') },
  });
  const write = useWrite((v: typeof form.values) => send('PUT', `${base}/configuration`, { environment_id: v.environment_id, configuration: { env: parsePairs(v.env).map((x) => ({ name: x.key, value: x.value })) } }), onDone);
  return (
    <form onSubmit={form.onSubmit((v) => write.mutate(v))} noValidate>
      <Stack>
        <ErrorAlert error={write.error} />
        <Select label="Environment" data={envs} withAsterisk {...form.getInputProps('environment_id')} />
        <Textarea label="Variables" description="NAME=value per line" autosize minRows={3} {...form.getInputProps('env')} />
        <Button type="submit" loading={write.isPending} data-testid="submit">
          Save
        </Button>
      </Stack>
    </form>
  );
}

export const pairsRule = (what: string) => (v: string) => {
  try {
    parsePairs(v, what);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
};

/** Mount lines `config-id:/absolute/path` → ConfigMap storages. @throws Error naming the bad line */
function parseMounts(text: string): any[] {
  return text
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const i = s.indexOf(':');
      const id = s.slice(0, i).trim();
      const path = s.slice(i + 1).trim();
      if (i <= 0 || !path.startsWith('/')) throw new Error(`mount "${s}" must look like config-id:/absolute/path`);
      return { type: 'ConfigMap', name: id, parameters: { config_id: id }, mounts: [{ path, read_only: true }] };
    });
}

/**
 * The component body from the form: runtime stack, source (hosted or external repository,
 * package URL, image), envs, config file mounts, probes, replicas (servicestage.md §4.1).
 */
export function componentBody(v: ComponentValues, stacks: any[]): Record<string, unknown> {
  const stack = stacks.find((s) => s.name === v.stack);
  const source =
    v.sourceKind === 'package' ? { kind: 'package', storage: 'http', url: v.url.trim() } : v.sourceKind === 'image' ? { kind: 'image', url: v.url.trim() } : { kind: 'code', repo_url: v.url.trim(), repo_ref: v.ref.trim() || 'main', ...(v.repoAuth ? { repo_auth: v.repoAuth } : {}) };
  const probe = v.probePath ? { type: 'http', path: v.probePath, timeout: 1, ...(v.probePort ? { port: v.probePort } : {}) } : undefined;
  return {
    name: v.name,
    version: v.version,
    environment_id: v.environment_id,
    runtime_stack: { name: stack?.name ?? v.stack, type: stack?.type ?? '', version: stack?.version ?? '1.0.0', deploy_mode: stack?.deploy_mode ?? 'virtualmachine' },
    source,
    replica: v.replica,
    refer_resources: [],
    envs: parsePairs(v.envs).map((x) => ({ name: x.key, value: x.value })),
    storages: parseMounts(v.mounts),
    ...(probe ? { readiness_probe: probe, liveness_probe: { ...probe, delay: 5 } } : {}),
    ...(v.command.trim() ? { command: { command: ['sh', '-c', v.command.trim()] } } : {}),
  };
}

export interface ComponentValues {
  name: string;
  version: string;
  environment_id: string;
  stack: string;
  sourceKind: string;
  url: string;
  ref: string;
  repoAuth: string;
  replica: number;
  envs: string;
  mounts: string;
  probePath: string;
  probePort: number | string;
  command: string;
}

function ComponentForm({ appId, onDone }: { appId: string; onDone: (r: any) => void }) {
  const p = useProject();
  const envs = useEnvironmentOptions();
  const stacks = useQuery({ queryKey: ['stacks', p], queryFn: () => get(`/v3/${p}/cas/runtimestacks`) });
  const auths = useQuery({ queryKey: ['git-auths', p], queryFn: () => get(`/v1/${p}/git/auths`) });
  const [hosted, setHosted] = useState<any[]>([]);
  const form = useForm<ComponentValues>({
    initialValues: { name: '', version: '1.0.0', environment_id: '', stack: 'Nodejs20', sourceKind: 'code', url: '', ref: 'main', repoAuth: '', replica: 1, envs: '', mounts: '', probePath: '/health', probePort: '', command: '' },
    validate: {
      name: nameRule,
      version: (v) => (VERSION.test(v) ? null : 'A version looks like 1.0.0'),
      environment_id: (v) => (v ? null : 'Choose an environment'),
      stack: (v) => (v ? null : 'Choose a runtime stack'),
      url: (v, all) => (!v.trim() ? (all.sourceKind === 'code' ? 'The repository clone URL is required' : 'The URL is required') : /^(https?|file|git|ssh):\/\//.test(v.trim()) || all.sourceKind === 'image' ? null : 'An http(s), file, git or ssh URL'),
      replica: (v) => (Number.isInteger(v) && v >= 0 && v <= 100 ? null : '0 to 100 replicas'),
      envs: pairsRule('variable'),
      mounts: (v) => {
        try {
          parseMounts(v);
          return null;
        } catch (e) {
          return (e as Error).message;
        }
      },
      probePath: (v) => (!v || v.startsWith('/') ? null : 'A path starts with /'),
    },
  });
  // The repositories the chosen authorization sees (for OpenStage's own host: its hosted ones).
  const loadHosted = async (auth: string) => {
    form.setFieldValue('repoAuth', auth);
    setHosted([]);
    if (!auth) return;
    const headers = { 'X-Repo-Auth': auth };
    const ns = await request<any>(`/v1/${p}/git/repos/namespaces`, { headers }).catch(() => undefined);
    const found: any[] = [];
    for (const n of ns?.body.namespaces ?? []) {
      const r = await request<any>(`/v1/${p}/git/repos/${encodeURIComponent(n.name)}/projects`, { headers }).catch(() => undefined);
      found.push(...(r?.body.projects ?? []));
    }
    setHosted(found);
  };
  const write = useWrite((v: ComponentValues) => send('POST', `/v3/${p}/cas/applications/${appId}/components`, componentBody(v, stacks.data?.runtime_stacks ?? [])), onDone);
  const kind = form.values.sourceKind;
  return (
    <form onSubmit={form.onSubmit((v) => write.mutate(v))} noValidate>
      <Stack gap="sm">
        <ErrorAlert error={write.error} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label="Name" withAsterisk {...form.getInputProps('name')} />
          <TextInput label="Version" withAsterisk {...form.getInputProps('version')} />
          <Select label="Environment" data={envs} withAsterisk {...form.getInputProps('environment_id')} data-testid="environment" />
          <Select
            label="Runtime stack"
            withAsterisk
            data={(stacks.data?.runtime_stacks ?? []).filter((s: any) => s.status !== 'Disable').map((s: any) => ({ value: s.name, label: `${s.name} (${s.type})` }))}
            {...form.getInputProps('stack')}
          />
        </SimpleGrid>
        <SegmentedControl data={[{ value: 'code', label: 'Repository' }, { value: 'package', label: 'Package URL' }, { value: 'image', label: 'Image' }]} {...form.getInputProps('sourceKind')} />
        {kind === 'code' && (
          <Select
            label="Git authorization"
            description="For a repository hosted by OpenStage or a private one; leave empty for a public URL"
            clearable
            data={(auths.data?.authorizations ?? []).map((a: any) => ({ value: a.name, label: `${a.name} (${a.repo_type})` }))}
            value={form.values.repoAuth || null}
            onChange={(v) => void loadHosted(v ?? '')}
          />
        )}
        {hosted.length > 0 && (
          <Select label="Repository" placeholder="Pick one to fill the clone URL" data={hosted.map((r) => ({ value: r.clone_url, label: r.clone_url }))} onChange={(v) => v && form.setFieldValue('url', v)} data-testid="hosted-repo" />
        )}
        <SimpleGrid cols={{ base: 1, sm: kind === 'code' ? 2 : 1 }}>
          <TextInput label={kind === 'code' ? 'Clone URL' : kind === 'package' ? 'Package URL' : 'Image reference'} withAsterisk {...form.getInputProps('url')} data-testid="source-url" />
          {kind === 'code' && <TextInput label="Branch or tag" {...form.getInputProps('ref')} />}
        </SimpleGrid>
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <NumberInput label="Replicas" min={0} max={100} {...form.getInputProps('replica')} />
          <TextInput label="Readiness probe path (HTTP)" {...form.getInputProps('probePath')} />
          <NumberInput label="Probe port" description="Empty: the replica's port" {...form.getInputProps('probePort')} />
        </SimpleGrid>
        <Textarea label="Environment variables" description="NAME=value per line" autosize minRows={2} {...form.getInputProps('envs')} />
        <Textarea label="Config file mounts" description="config-file-id:/absolute/path per line (see Configuration)" autosize minRows={1} {...form.getInputProps('mounts')} />
        <TextInput label="Start command" description="Empty: the runtime stack's own (e.g. npm start)" {...form.getInputProps('command')} />
        <Group justify="flex-end">
          <Button type="submit" loading={write.isPending} data-testid="submit">
            Create and deploy
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
