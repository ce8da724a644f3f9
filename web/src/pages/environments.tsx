import { Anchor, Button, Code, Group, Select, Stack, Table, Text, TextInput, Textarea } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { get, send } from '../api';
import { useProject } from '../session';
import { ConfirmButton, DataTable, ErrorAlert, FilterInput, FormButton, Loading, PageTitle, Pager, Section, StatusBadge, fmtTime, labelsText, parsePairs, useWrite } from '../ui';

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}[A-Za-z0-9]$/;
export const nameRule = (v: string) => (NAME.test(v) ? null : '2–64 characters: letters, digits, - and _; a letter first, a letter or digit last');
const PAGE = 10;

/** Environments: list (paged and filtered by name on the server), create, edit, delete. */
export function Environments() {
  const p = useProject();
  const [page, setPage] = useState(1);
  const [name, setName] = useState('');
  const list = useQuery({ queryKey: ['envs', p, page, name], queryFn: () => get(`/v3/${p}/cas/environments`, { limit: PAGE, offset: (page - 1) * PAGE, name: name || undefined }) });
  const navigate = useNavigate();
  return (
    <>
      <PageTitle title="Environments">
        <FilterInput placeholder="Filter by name" value={name} onChange={(v) => (setName(v), setPage(1))} />
        <FormButton label="Create environment" title="Create environment" data-testid="create-environment">
          {(close) => <EnvironmentForm onDone={(e) => (close(), navigate(`/environments/${e.id}`))} />}
        </FormButton>
      </PageTitle>
      <ErrorAlert error={list.error} />
      <DataTable
        testId="environments"
        rows={list.data?.environments}
        rowKey={(e: any) => e.id}
        empty={name ? `No environment named ${name}.` : 'No environments yet.'}
        columns={[
          { title: 'Name', render: (e) => <Anchor component={Link} to={`/environments/${e.id}`}>{e.name}</Anchor> },
          { title: 'Deploy mode', render: (e) => e.deploy_mode },
          { title: 'Labels', render: (e) => labelsText(e.labels) },
          { title: 'Description', render: (e) => e.description },
          { title: 'Created', render: (e) => fmtTime(e.create_time) },
        ]}
      />
      {list.data && <Pager total={list.data.count} page={page} pageSize={PAGE} onChange={setPage} />}
    </>
  );
}

/** Create (no `env`) or edit an environment. */
function EnvironmentForm({ env, onDone }: { env?: any; onDone: (e: any) => void }) {
  const p = useProject();
  const form = useForm({
    initialValues: { name: env?.name ?? '', description: env?.description ?? '', deploy_mode: env?.deploy_mode ?? 'virtualmachine', labels: labelsText(env?.labels).replaceAll(', ', '\n') },
    validate: {
      name: nameRule,
      description: (v) => (v.length <= 128 ? null : 'At most 128 characters'),
      labels: (v) => {
        try {
          parsePairs(v, 'label');
          return null;
        } catch (e) {
          return (e as Error).message;
        }
      },
    },
  });
  const write = useWrite((v: typeof form.values) => {
    const body = { name: v.name, description: v.description, labels: parsePairs(v.labels, 'label') };
    return env ? send('PUT', `/v3/${p}/cas/environments/${env.id}`, body) : send('POST', `/v3/${p}/cas/environments`, { ...body, deploy_mode: v.deploy_mode, vpc_id: 'vpc-local' });
  }, onDone);
  return (
    <form onSubmit={form.onSubmit((v) => write.mutate(v))} noValidate>
      <Stack>
        <ErrorAlert error={write.error} />
        <TextInput label="Name" withAsterisk {...form.getInputProps('name')} />
        <TextInput label="Description" {...form.getInputProps('description')} />
        {!env && <Select label="Deploy mode" data={['virtualmachine', 'container', 'mixed']} allowDeselect={false} {...form.getInputProps('deploy_mode')} />}
        <Textarea label="Labels" description="One key=value per line" autosize minRows={2} {...form.getInputProps('labels')} />
        <Button type="submit" loading={write.isPending} data-testid="submit">
          {env ? 'Save' : 'Create'}
        </Button>
      </Stack>
    </form>
  );
}

const RESOURCE_TYPES = ['cse', 'ecs', 'cce', 'custom_k8s', 'rds', 'dcs'];

/** One environment: its settings, bound resources (secrets masked), created resources, provisioning records. */
export function EnvironmentPage() {
  const p = useProject();
  const { id } = useParams();
  const navigate = useNavigate();
  const base = `/v3/${p}/cas/environments/${id}`;
  const env = useQuery({ queryKey: ['env', p, id], queryFn: () => get(base) });
  const resources = useQuery({ queryKey: ['env-resources', p, id], queryFn: () => get(`${base}/resources`) });
  const iac = useQuery({ queryKey: ['env-iac', p, id], queryFn: () => get(`${base}/iac-resources`) });
  const histories = useQuery({ queryKey: ['env-provisions', p, id], queryFn: () => get(`${base}/iac-resources/provision-histories`, { limit: 10 }) });
  const [history, setHistory] = useState<string>();
  const events = useQuery({ queryKey: ['env-events', p, id, history], enabled: !!history, queryFn: () => get(`${base}/iac-resources/provision-histories/${history}/events`) });
  const provision = useWrite(() => send('POST', `${base}/iac-resources/provision`));
  if (env.error) return <ErrorAlert error={env.error} />;
  if (!env.data) return <Loading />;
  const e = env.data;
  const bound: any[] = resources.data?.resources ?? [];
  return (
    <>
      <PageTitle title={`Environment ${e.name}`}>
        <FormButton label="Edit" title="Edit environment" variant="light">
          {(close) => <EnvironmentForm env={e} onDone={close} />}
        </FormButton>
        <ConfirmButton label="Delete" color="red" title="Delete environment" message={<Text>Delete {e.name}? Resources it created are destroyed.</Text>} action={() => send('DELETE', base)} onDone={() => navigate('/environments')} />
      </PageTitle>
      <Table withRowBorders={false} w="auto">
        <Table.Tbody>
          {[
            ['ID', <Code key="id">{e.id}</Code>],
            ['Deploy mode', e.deploy_mode],
            ['Description', e.description || '—'],
            ['Labels', labelsText(e.labels) || '—'],
            ['Created', `${fmtTime(e.create_time)} by ${e.creator}`],
          ].map(([k, v]) => (
            <Table.Tr key={String(k)}>
              <Table.Td c="dimmed">{k}</Table.Td>
              <Table.Td>{v}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Section
        title="Bound resources"
        actions={
          <FormButton label="Bind resource" title="Bind a resource" variant="light">
            {(close) => <BindForm base={base} current={bound} onDone={close} />}
          </FormButton>
        }
      >
        <ErrorAlert error={resources.error} />
        <DataTable
          testId="resources"
          rows={resources.data ? bound : undefined}
          rowKey={(r: any) => `${r.type}/${r.id}`}
          empty="No bound resources. Bind cse with id default to use this server's registry and config center."
          columns={[
            { title: 'Type', render: (r) => r.type },
            { title: 'ID', render: (r) => <Code>{r.id}</Code> },
            { title: 'Name', render: (r) => r.name },
            { title: 'Parameters', render: (r) => <Text size="xs" ff="monospace">{Object.entries(r.parameters ?? {}).map(([k, v]) => `${k}=${v}`).join('  ') || '—'}</Text> },
            {
              title: '',
              render: (r) => (
                <ConfirmButton label="Unbind" color="red" title="Unbind resource" message={`Unbind ${r.type} ${r.id}?`} action={() => send('PUT', `${base}/resources`, { resources: bound.filter((x) => x !== r).map(keepResource) })} />
              ),
            },
          ]}
        />
      </Section>
      <Section
        title="Created resources"
        actions={
          <>
            <FormButton label="Add resource" title="Add a created resource" variant="light">
              {(close) => <IacForm base={base} onDone={close} />}
            </FormButton>
            <Button size="xs" onClick={() => provision.mutate(undefined)} loading={provision.isPending} data-testid="provision">
              Provision
            </Button>
          </>
        }
      >
        <ErrorAlert error={iac.error ?? provision.error} />
        {provision.data && (
          <Text size="sm">
            Provisioning: <StatusBadge status={provision.data.status} /> {provision.data.status_message}
          </Text>
        )}
        <DataTable
          testId="iac"
          rows={iac.data?.iac_resources}
          rowKey={(r: any) => r.id}
          empty="No created resources (rds makes a PostgreSQL database, cse an exclusive engine)."
          columns={[
            { title: 'Name', render: (r) => r.name },
            { title: 'Type', render: (r) => r.type },
            { title: 'Status', render: (r) => <StatusBadge status={r.status} /> },
            { title: 'Resource', render: (r) => r.resource_id || '—' },
            { title: '', render: (r) => <ConfirmButton label="Delete" color="red" title="Delete created resource" message={`Delete ${r.name}? The next provisioning destroys it.`} action={() => send('DELETE', `${base}/iac-resources/${r.id}`)} /> },
          ]}
        />
        <Text fw={600} mt="sm">
          Provisioning records
        </Text>
        <DataTable
          testId="provisions"
          rows={histories.data?.list}
          rowKey={(h: any) => h.id}
          empty="Not provisioned yet."
          columns={[
            { title: 'Started', render: (h) => fmtTime(h.create_time) },
            { title: 'Operation', render: (h) => h.operation },
            { title: 'Status', render: (h) => <StatusBadge status={h.status} /> },
            { title: 'Output', render: (h) => <Text size="xs">{h.output}</Text> },
            { title: '', render: (h) => <Button size="xs" variant="subtle" onClick={() => setHistory(h.id)}>Events</Button> },
          ]}
        />
        {history && (
          <DataTable
            testId="events"
            rows={events.data?.stack_events}
            rowKey={(ev: any) => `${ev.time}${ev.event_message}${ev.resource_name}`}
            empty="No events."
            columns={[
              { title: 'Time', render: (ev) => fmtTime(ev.time) },
              { title: 'Type', render: (ev) => ev.event_type },
              { title: 'Resource', render: (ev) => `${ev.resource_type} ${ev.resource_name}` },
              { title: 'Message', render: (ev) => ev.event_message },
            ]}
          />
        )}
      </Section>
    </>
  );
}

/** A bound resource as PUT wants it back (a masked secret resent as ****** keeps its value). */
const keepResource = (r: any) => ({ id: r.id, type: r.type, name: r.name, ...(r.alias ? { alias: r.alias } : {}), parameters: r.parameters ?? {} });

function BindForm({ base, current, onDone }: { base: string; current: any[]; onDone: () => void }) {
  const form = useForm({
    initialValues: { type: 'cse', id: 'default', name: '', parameters: '' },
    validate: {
      id: (v) => (v.trim() ? null : 'The resource id is required'),
      parameters: (v) => {
        try {
          parsePairs(v, 'parameter');
          return null;
        } catch (e) {
          return (e as Error).message;
        }
      },
    },
  });
  const write = useWrite(
    (v: typeof form.values) =>
      send('PUT', `${base}/resources`, {
        resources: [...current.map(keepResource), { type: v.type, id: v.id.trim(), name: v.name.trim() || v.id.trim(), parameters: Object.fromEntries(parsePairs(v.parameters).map((x) => [x.key, x.value])) }],
      }),
    onDone,
  );
  return (
    <form onSubmit={form.onSubmit((v) => write.mutate(v))} noValidate>
      <Stack>
        <ErrorAlert error={write.error} />
        <Select label="Type" data={RESOURCE_TYPES} allowDeselect={false} {...form.getInputProps('type')} />
        <TextInput label="Resource ID" withAsterisk description="cse: default (this server) or an engine id" {...form.getInputProps('id')} />
        <TextInput label="Name" {...form.getInputProps('name')} />
        <Textarea label="Parameters" description="key=value per line; passwords and tokens are sealed and shown masked" autosize minRows={2} {...form.getInputProps('parameters')} />
        <Button type="submit" loading={write.isPending} data-testid="submit">
          Bind
        </Button>
      </Stack>
    </form>
  );
}

function IacForm({ base, onDone }: { base: string; onDone: () => void }) {
  const form = useForm({
    initialValues: { name: '', type: 'rds', vars: '' },
    validate: {
      name: (v) => (/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(v) ? null : 'A letter first, then letters, digits, - and _'),
      vars: (v) => {
        try {
          parsePairs(v, 'variable');
          return null;
        } catch (e) {
          return (e as Error).message;
        }
      },
    },
  });
  const write = useWrite((v: typeof form.values) => send('POST', `${base}/iac-resources`, { name: v.name, type: v.type, vars_body: Object.fromEntries(parsePairs(v.vars).map((x) => [x.key, x.value])) }), onDone);
  return (
    <form onSubmit={form.onSubmit((v) => write.mutate(v))} noValidate>
      <Stack>
        <ErrorAlert error={write.error} />
        <TextInput label="Name" withAsterisk {...form.getInputProps('name')} />
        <Select label="Type" data={['rds', 'cse']} allowDeselect={false} {...form.getInputProps('type')} />
        <Textarea label="Variables" description="key=value per line (rds: db_name, db_user; cse: flavor, auth_type)" autosize minRows={2} {...form.getInputProps('vars')} />
        <Group justify="flex-end">
          <Button type="submit" loading={write.isPending} data-testid="submit">
            Add
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
