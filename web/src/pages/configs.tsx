import { Anchor, Button, Code, FileInput, Group, Select, SimpleGrid, Stack, Switch, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { diffLines } from 'diff';
import { lazy, Suspense, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { get, send } from '../api';
import { useProject } from '../session';
import { ConfirmButton, DataTable, ErrorAlert, FilterInput, FormButton, Loading, PageTitle, Pager, Section, fmtTime, useWrite } from '../ui';
import { nameRule } from './environments';

export const Editor = lazy(() => import('../editor'));
const PAGE = 10;

/** Config groups and files: list, filter (group, name) on the server, create, import a .zip. */
export function Configs() {
  const p = useProject();
  const navigate = useNavigate();
  const [page, setPage] = useState(1);
  const [name, setName] = useState('');
  const [group, setGroup] = useState<string | null>(null);
  const groups = useQuery({ queryKey: ['config-groups', p], queryFn: () => get(`/v3/${p}/cas/config-groups`, { limit: 100 }) });
  const files = useQuery({ queryKey: ['configs', p, page, name, group], queryFn: () => get(`/v3/${p}/cas/configs`, { limit: PAGE, offset: (page - 1) * PAGE, name: name || undefined, config_group_id: group ?? undefined }) });
  const groupList: any[] = groups.data?.config_groups ?? [];
  const groupName = (id: string) => groupList.find((g) => g.id === id)?.name ?? id;
  return (
    <>
      <PageTitle title="Configuration">
        <FormButton label="Create group" title="Create config group" variant="light" data-testid="create-group">
          {(close) => <GroupForm onDone={close} />}
        </FormButton>
        <FormButton label="Create file" title="Create config file" size="xl" data-testid="create-config">
          {(close) => <ConfigForm groups={groupList} onDone={(c) => (close(), navigate(`/configs/${c.id}`))} />}
        </FormButton>
        <FormButton label="Import .zip" title="Import config files from a .zip" variant="light">
          {(close) => <ImportForm groups={groupList} onDone={close} />}
        </FormButton>
      </PageTitle>
      <ErrorAlert error={groups.error ?? files.error} />
      <Section title="Groups">
        <DataTable
          testId="config-groups"
          rows={groups.data?.config_groups}
          rowKey={(g: any) => g.id}
          empty="No config groups yet: a file lives in a group."
          columns={[
            { title: 'Group', render: (g) => <Anchor onClick={() => (setGroup(g.id), setPage(1))}>{g.name}</Anchor> },
            { title: 'Description', render: (g) => g.description ?? '' },
            { title: 'Created', render: (g) => fmtTime(g.create_time) },
            { title: '', render: (g) => <ConfirmButton label="Delete" color="red" title="Delete group" message={`Delete group ${g.name}?`} action={() => send('DELETE', `/v3/${p}/cas/config-groups/${g.id}`)} /> },
          ]}
        />
      </Section>
      <Section
        title="Files"
        actions={
          <>
            <Select aria-label="group" placeholder="All groups" clearable size="xs" data={groupList.map((g) => ({ value: g.id, label: g.name }))} value={group} onChange={(v) => (setGroup(v), setPage(1))} />
            <FilterInput placeholder="Filter by name" value={name} onChange={(v) => (setName(v), setPage(1))} />
          </>
        }
      >
        <DataTable
          testId="configs"
          rows={files.data?.configs}
          rowKey={(c: any) => c.id}
          empty="No config files match."
          columns={[
            { title: 'File', render: (c) => <Anchor component={Link} to={`/configs/${c.id}`}>{c.name}</Anchor> },
            { title: 'Group', render: (c) => groupName(c.config_group_id) },
            { title: 'Type', render: (c) => c.type },
            { title: 'Version', render: (c) => c.version },
            { title: 'Mounted by', render: (c) => c.components.map((x: any) => x.component_name).join(', ') || '—' },
            { title: 'Updated', render: (c) => fmtTime(c.update_time) },
          ]}
        />
        {files.data && <Pager total={files.data.count} page={page} pageSize={PAGE} onChange={setPage} />}
      </Section>
    </>
  );
}

function GroupForm({ onDone }: { onDone: () => void }) {
  const p = useProject();
  const form = useForm({ initialValues: { name: '', description: '' }, validate: { name: nameRule, description: (v) => (v.length <= 256 ? null : 'At most 256 characters') } });
  const write = useWrite((v: typeof form.values) => send('POST', `/v3/${p}/cas/config-groups`, v), onDone);
  return (
    <form onSubmit={form.onSubmit((v) => write.mutate(v))} noValidate>
      <Stack>
        <ErrorAlert error={write.error} />
        <TextInput label="Name" withAsterisk {...form.getInputProps('name')} />
        <TextInput label="Description" {...form.getInputProps('description')} />
        <Button type="submit" loading={write.isPending} data-testid="submit">
          Create
        </Button>
      </Stack>
    </form>
  );
}

function ConfigForm({ groups, onDone }: { groups: any[]; onDone: (c: any) => void }) {
  const p = useProject();
  const form = useForm({
    initialValues: { config_group_id: groups[0]?.id ?? '', name: '', type: 'yaml', content: '', description: '', sensitive: false },
    validate: { config_group_id: (v) => (v ? null : 'Choose a group (create one first)'), name: nameRule, content: (v) => (v.trim() ? null : 'The content is required') },
  });
  const write = useWrite((v: typeof form.values) => send('POST', `/v3/${p}/cas/configs`, v), onDone);
  return (
    <form onSubmit={form.onSubmit((v) => write.mutate(v))} noValidate>
      <Stack>
        <ErrorAlert error={write.error} />
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <Select label="Group" withAsterisk data={groups.map((g) => ({ value: g.id, label: g.name }))} {...form.getInputProps('config_group_id')} />
          <TextInput label="Name" withAsterisk {...form.getInputProps('name')} />
          <Select label="Type" data={['yaml', 'properties']} allowDeselect={false} {...form.getInputProps('type')} />
        </SimpleGrid>
        <TextInput label="Description" {...form.getInputProps('description')} />
        <Suspense fallback={<Loading />}>
          <Editor value={form.values.content} onChange={(v) => form.setFieldValue('content', v)} language={form.values.type} height="240px" />
        </Suspense>
        {form.errors.content && (
          <Text c="red" size="sm">
            {form.errors.content}
          </Text>
        )}
        <Switch label="Sensitive (mounted as a secret)" {...form.getInputProps('sensitive', { type: 'checkbox' })} />
        <Button type="submit" loading={write.isPending} data-testid="submit">
          Create
        </Button>
      </Stack>
    </form>
  );
}

function ImportForm({ groups, onDone }: { groups: any[]; onDone: () => void }) {
  const p = useProject();
  const form = useForm<{ file: File | null; group: string }>({
    initialValues: { file: null, group: '' },
    validate: { file: (f) => (!f ? 'Choose a .zip file' : !f.name.endsWith('.zip') ? 'The file must be a .zip' : f.size > 500 * 1024 ? 'At most 500 KB' : null) },
  });
  const write = useWrite((v: typeof form.values) => {
    const body = new FormData();
    body.append('upload_file', v.file!, v.file!.name);
    if (v.group) body.append('config_group_id', v.group);
    return send('POST', `/v3/${p}/cas/configs/import`, body);
  });
  return (
    <form onSubmit={form.onSubmit((v) => write.mutate(v))} noValidate>
      <Stack>
        <ErrorAlert error={write.error} />
        <FileInput label=".zip file" accept=".zip" withAsterisk {...form.getInputProps('file')} />
        <Select label="Group for top-level files" clearable data={groups.map((g) => ({ value: g.id, label: g.name }))} {...form.getInputProps('group')} />
        {write.data && <Text data-testid="import-result">Imported: {JSON.stringify(write.data)}</Text>}
        <Group justify="flex-end">
          {write.data && <Button variant="default" onClick={onDone}>Close</Button>}
          <Button type="submit" loading={write.isPending} data-testid="submit">
            Import
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** One config file: the editor, its records, and a diff between any two records. */
export function ConfigPage() {
  const p = useProject();
  const { id } = useParams();
  const navigate = useNavigate();
  const base = `/v3/${p}/cas/configs/${id}`;
  const config = useQuery({ queryKey: ['config', p, id], queryFn: () => get(base) });
  const [page, setPage] = useState(1);
  const records = useQuery({ queryKey: ['config-records', p, id, page], queryFn: () => get(`${base}/histories`, { limit: PAGE, offset: (page - 1) * PAGE }) });
  const [draft, setDraft] = useState<string>();
  const [left, setLeft] = useState<string | null>(null);
  const [right, setRight] = useState<string | null>(null);
  const save = useWrite((content: string) => send('PUT', base, { config_group_id: config.data.config_group_id, name: config.data.name, type: config.data.type, description: config.data.description, sensitive: config.data.sensitive, content }), () => setDraft(undefined));
  if (config.error) return <ErrorAlert error={config.error} />;
  if (!config.data) return <Loading />;
  const c = config.data;
  const hist: any[] = records.data?.histories ?? [];
  const text = draft ?? c.content;
  const contentOf = (hid: string | null) => (hid === 'current' ? c.content : hist.find((h) => h.config_history_id === hid)?.content);
  return (
    <>
      <PageTitle title={`Config file ${c.name}`}>
        <ConfirmButton label="Delete" color="red" title="Delete config file" message={`Delete ${c.name}?`} action={() => send('DELETE', base)} onDone={() => navigate('/configs')} />
      </PageTitle>
      <Text size="sm" c="dimmed" mb="sm">
        <Code>{c.id}</Code> · {c.type} · version <span data-testid="config-version">{c.version}</span> · mounted by {c.components.map((x: any) => x.component_name).join(', ') || 'no component'}
      </Text>
      <ErrorAlert error={save.error} />
      <Suspense fallback={<Loading />}>
        <Editor value={text} onChange={setDraft} language={c.type} />
      </Suspense>
      <Group mt="xs">
        <Button disabled={draft === undefined || draft === c.content} loading={save.isPending} onClick={() => save.mutate(text)} data-testid="save">
          Save (new record)
        </Button>
        {draft !== undefined && (
          <Button variant="default" onClick={() => setDraft(undefined)}>
            Discard changes
          </Button>
        )}
      </Group>
      <Section title="Records">
        <DataTable
          testId="config-records"
          rows={records.data?.histories}
          rowKey={(h: any) => h.config_history_id}
          empty="No records."
          columns={[
            { title: 'Version', render: (h) => h.version },
            { title: 'Saved', render: (h) => fmtTime(h.create_time) },
            { title: 'By', render: (h) => h.creator },
            { title: 'Size', render: (h) => `${h.content.length} chars` },
            { title: '', render: (h) => <Group gap={4}><Button size="xs" variant="subtle" onClick={() => setLeft(h.config_history_id)}>as left</Button><Button size="xs" variant="subtle" onClick={() => setRight(h.config_history_id)}>as right</Button></Group> },
          ]}
        />
        {records.data && <Pager total={records.data.count} page={page} pageSize={PAGE} onChange={setPage} />}
      </Section>
      <Section title="Diff">
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Select label="Left" data={[{ value: 'current', label: 'current' }, ...hist.map((h) => ({ value: h.config_history_id, label: `version ${h.version}` }))]} value={left} onChange={setLeft} data-testid="diff-left" />
          <Select label="Right" data={[{ value: 'current', label: 'current' }, ...hist.map((h) => ({ value: h.config_history_id, label: `version ${h.version}` }))]} value={right} onChange={setRight} data-testid="diff-right" />
        </SimpleGrid>
        {left && right && <Diff a={contentOf(left) ?? ''} b={contentOf(right) ?? ''} />}
      </Section>
    </>
  );
}

/** A line diff: removed lines red, added green. */
export function Diff({ a, b }: { a: string; b: string }) {
  const parts = diffLines(a, b);
  return (
    <pre data-testid="diff" style={{ fontSize: 12, border: '1px solid var(--mantine-color-gray-3)', padding: 8, overflowX: 'auto', margin: 0 }}>
      {parts.map((part, i) => (
        <span key={i} style={{ background: part.added ? '#d3f9d8' : part.removed ? '#ffe3e3' : undefined, display: 'block' }}>
          {part.value
            .replace(/\n$/, '')
            .split('\n')
            .map((line) => `${part.added ? '+' : part.removed ? '-' : ' '} ${line}`)
            .join('\n')}
        </span>
      ))}
    </pre>
  );
}
