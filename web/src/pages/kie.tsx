import { Anchor, Badge, Button, Code, Group, Select, SimpleGrid, Stack, Text, TextInput, Textarea } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { Suspense, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { get, send } from '../api';
import { ConfirmButton, DataTable, ErrorAlert, FilterInput, FormButton, Loading, PageTitle, Pager, Section, StatusBadge, fmtTime, parsePairs, useWrite } from '../ui';
import { Diff, Editor } from './configs';
import { pairsRule } from './applications';
import { RbacGate, RegistryProjectInput, useRegistryProject } from './registry';

const PAGE = 20;
const TYPES = ['text', 'yaml', 'json', 'properties', 'ini', 'xml'];
const labelText = (labels: Record<string, string> | undefined) => Object.entries(labels ?? {}).map(([k, v]) => `${k}:${v}`);

/** Kie keys: filtered by labels and key on the server, paged. */
export function Kie() {
  const [rp, setRp] = useRegistryProject();
  const navigate = useNavigate();
  const [page, setPage] = useState(1);
  const [labels, setLabels] = useState('');
  const [key, setKey] = useState('');
  const labelQuery = labels.split(/[\s,]+/).filter(Boolean);
  const list = useQuery({ queryKey: ['kvs', rp, page, labels, key], queryFn: () => get(`/v1/${rp}/kie/kv`, { label: labelQuery, key: key ? `wildcard(*${key}*)` : undefined, offset: (page - 1) * PAGE, limit: PAGE }) });
  return (
    <>
      <PageTitle title="Config center">
        <RegistryProjectInput value={rp} onChange={setRp} />
        <FilterInput placeholder="Labels app:shop env:prod" value={labels} onChange={(v) => (setLabels(v), setPage(1))} />
        <FilterInput placeholder="Key contains" value={key} onChange={(v) => (setKey(v), setPage(1))} />
        <FormButton label="Create key" title="Create a key" size="xl" data-testid="create-kv">
          {(close) => <KvForm rp={rp} onDone={(kv) => (close(), navigate(`/kie/${kv.id}`))} />}
        </FormButton>
      </PageTitle>
      {list.error ? (
        <RbacGate error={list.error} />
      ) : (
        <>
          <DataTable
            testId="kvs"
            rows={list.data?.data}
            rowKey={(kv: any) => kv.id}
            empty="No keys match."
            columns={[
              { title: 'Key', render: (kv) => <Anchor component={Link} to={`/kie/${kv.id}`}>{kv.key}</Anchor> },
              { title: 'Labels', render: (kv) => <Group gap={4}>{labelText(kv.labels).map((l) => <Badge key={l} variant="light" size="sm">{l}</Badge>)}</Group> },
              { title: 'Type', render: (kv) => kv.value_type },
              { title: 'Value', render: (kv) => <Text size="xs" ff="monospace" lineClamp={1} maw={260}>{kv.value}</Text> },
              { title: 'Status', render: (kv) => <StatusBadge status={kv.status === 'enabled' ? 'SUCCEEDED' : 'Disable'} /> },
              { title: 'Revision', render: (kv) => kv.update_revision },
            ]}
          />
          {list.data && <Pager total={list.data.total} page={page} pageSize={PAGE} onChange={setPage} />}
        </>
      )}
    </>
  );
}

function KvForm({ rp, onDone }: { rp: string; onDone: (kv: any) => void }) {
  const form = useForm({
    initialValues: { key: '', value: '', value_type: 'text', labels: '', status: 'enabled' },
    validate: { key: (v) => (/^[a-zA-Z0-9_.:\-/]{1,2048}$/.test(v) ? null : 'Letters, digits and _ . : - /'), labels: pairsRule('label') },
  });
  const write = useWrite((v: typeof form.values) => send('POST', `/v1/${rp}/kie/kv`, { key: v.key, value: v.value, value_type: v.value_type, status: v.status, labels: Object.fromEntries(parsePairs(v.labels, 'label').map((x) => [x.key, x.value])) }), onDone);
  return (
    <form onSubmit={form.onSubmit((v) => write.mutate(v))} noValidate>
      <Stack>
        <ErrorAlert error={write.error} />
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <TextInput label="Key" withAsterisk {...form.getInputProps('key')} />
          <Select label="Type" data={TYPES} allowDeselect={false} {...form.getInputProps('value_type')} />
          <Select label="Status" data={['enabled', 'disabled']} allowDeselect={false} {...form.getInputProps('status')} />
        </SimpleGrid>
        <Textarea label="Labels" description="name=value per line, e.g. app=shop" autosize minRows={2} {...form.getInputProps('labels')} />
        <Suspense fallback={<Loading />}>
          <Editor value={form.values.value} onChange={(v) => form.setFieldValue('value', v)} language={form.values.value_type} height="200px" />
        </Suspense>
        <Button type="submit" loading={write.isPending} data-testid="submit">
          Create
        </Button>
      </Stack>
    </form>
  );
}

/** One kv: editor, enable/disable, history with a diff and restore as a new revision. */
export function KvPage() {
  const { id } = useParams();
  const [rp] = useRegistryProject();
  const navigate = useNavigate();
  const base = `/v1/${rp}/kie/kv/${id}`;
  const kv = useQuery({ queryKey: ['kv', rp, id], queryFn: () => get(base) });
  const history = useQuery({ queryKey: ['kv-history', rp, id], queryFn: () => get(`/v1/${rp}/kie/revision/${id}`, { limit: 50 }) });
  const [draft, setDraft] = useState<string>();
  const [compare, setCompare] = useState<any>();
  const save = useWrite((body: { value?: string; status?: string }) => send('PUT', base, body), () => setDraft(undefined));
  if (kv.error) return <RbacGate error={kv.error} />;
  if (!kv.data) return <Loading />;
  const k = kv.data;
  const text = draft ?? k.value;
  return (
    <>
      <PageTitle title={`Key ${k.key}`}>
        <Button size="xs" variant="light" onClick={() => save.mutate({ status: k.status === 'enabled' ? 'disabled' : 'enabled' })}>
          {k.status === 'enabled' ? 'Disable' : 'Enable'}
        </Button>
        <ConfirmButton label="Delete" color="red" title="Delete key" message={`Delete ${k.key} and its history?`} action={() => send('DELETE', base)} onDone={() => navigate('/kie')} />
      </PageTitle>
      <Text size="sm" c="dimmed" mb="xs">
        <Code>{k.id}</Code> · {labelText(k.labels).join(' ') || 'no labels'} · {k.value_type} · {k.status} · revision <span data-testid="kv-revision">{k.update_revision}</span>
      </Text>
      <ErrorAlert error={save.error} />
      <Suspense fallback={<Loading />}>
        <Editor value={text} onChange={setDraft} language={k.value_type} height="220px" />
      </Suspense>
      <Button mt="xs" disabled={draft === undefined || draft === k.value} loading={save.isPending} onClick={() => save.mutate({ value: text })} data-testid="save">
        Save
      </Button>
      <Section title="History">
        <ErrorAlert error={history.error} />
        <DataTable
          testId="kv-history"
          rows={history.data?.data}
          rowKey={(h: any) => String(h.update_revision)}
          empty="No history."
          columns={[
            { title: 'Revision', render: (h) => h.update_revision },
            { title: 'Value', render: (h) => <Text size="xs" ff="monospace" lineClamp={2} maw={320}>{h.value}</Text> },
            { title: 'Status', render: (h) => h.status },
            { title: 'Updated', render: (h) => fmtTime(h.update_time * 1000) },
            {
              title: '',
              render: (h) =>
                h.update_revision === k.update_revision ? (
                  <Badge size="sm">current</Badge>
                ) : (
                  <Group gap={4} wrap="nowrap">
                    <Button size="xs" variant="subtle" onClick={() => setCompare(h)}>
                      diff
                    </Button>
                    <ConfirmButton label="Restore" title="Restore" message={`Write the value of revision ${h.update_revision} as a new revision?`} action={() => send('PUT', base, { value: h.value, status: h.status })} data-testid={`restore-${h.update_revision}`} />
                  </Group>
                ),
            },
          ]}
        />
        {compare && (
          <>
            <Text size="sm">
              Revision {compare.update_revision} → current
            </Text>
            <Diff a={compare.value} b={k.value} />
          </>
        )}
      </Section>
    </>
  );
}
