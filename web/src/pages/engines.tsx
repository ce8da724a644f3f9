import { Anchor, Button, Code, PasswordInput, Select, Stack, Table, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { get, send } from '../api';
import { useProject } from '../session';
import { ConfirmButton, DataTable, ErrorAlert, FormButton, PageTitle, Pager, Section, StatusBadge, fmtTime, useWrite } from '../ui';

const PAGE = 10;

/** CSE engines: the built-in one and exclusive ones (create, delete, job progress). */
export function Engines() {
  const p = useProject();
  const [page, setPage] = useState(1);
  const [job, setJob] = useState<{ engineId: string; jobId: number }>();
  const list = useQuery({ queryKey: ['engines', p, page], queryFn: () => get(`/v2/${p}/enginemgr/engines`, { limit: PAGE, offset: (page - 1) * PAGE }), refetchInterval: 5000 });
  return (
    <>
      <PageTitle title="Engines">
        <FormButton label="Create engine" title="Create an exclusive engine" data-testid="create-engine">
          {(close) => <EngineForm onDone={(r) => (setJob({ engineId: r.id, jobId: r.jobId }), close())} />}
        </FormButton>
      </PageTitle>
      <ErrorAlert error={list.error} />
      <DataTable
        testId="engines"
        rows={list.data?.data}
        rowKey={(e: any) => e.id}
        empty="No engines."
        columns={[
          { title: 'Name', render: (e) => e.name },
          { title: 'Flavor', render: (e) => e.flavor },
          { title: 'Auth', render: (e) => e.authType },
          { title: 'Status', render: (e) => <StatusBadge status={e.status} /> },
          { title: 'Address', render: (e) => <Code>{e.externalAddress || e.serviceEndpoint?.serviceCenter?.main || '—'}</Code> },
          { title: 'Instances', render: (e) => `${e.usedInstance}/${e.totalInstance}` },
          { title: 'Created', render: (e) => fmtTime(e.createTime) },
          { title: 'Last job', render: (e) => (e.latestJobId ? <Anchor size="sm" onClick={() => setJob({ engineId: e.id, jobId: e.latestJobId })}>{e.latestJobId}</Anchor> : '—') },
          {
            title: '',
            render: (e) =>
              e.engineAdditionalActions?.includes('Delete') ? (
                <ConfirmButton label="Delete" color="red" title="Delete engine" message={`Delete engine ${e.name} and its data?`} action={() => send('DELETE', `/v2/${p}/enginemgr/engines/${e.id}`).then((r: any) => r?.jobId && setJob({ engineId: e.id, jobId: r.jobId }))} />
              ) : null,
          },
        ]}
      />
      {list.data && <Pager total={list.data.total} page={page} pageSize={PAGE} onChange={setPage} />}
      {job && <EngineJob {...job} />}
    </>
  );
}

function EngineJob({ engineId, jobId }: { engineId: string; jobId: number }) {
  const p = useProject();
  const job = useQuery({ queryKey: ['engine-job', p, engineId, jobId], queryFn: () => get(`/v2/${p}/enginemgr/engines/${engineId}/jobs/${jobId}`), refetchInterval: (q) => (q.state.data && !['Init', 'Executing'].includes(q.state.data.status) ? false : 1500) });
  return (
    <Section title={`Job ${jobId}`}>
      <ErrorAlert error={job.error} />
      {job.data && (
        <>
          <Text size="sm">
            {job.data.type} · <StatusBadge status={job.data.status} /> · started {fmtTime(job.data.startTime)}
          </Text>
          <Table data-testid="engine-job">
            <Table.Tbody>
              {job.data.tasks.flatMap((t: any) =>
                t.tasks.map((s: any) => (
                  <Table.Tr key={`${t.taskName}/${s.id}`}>
                    <Table.Td>{t.taskName}</Table.Td>
                    <Table.Td>{s.taskName}</Table.Td>
                    <Table.Td>
                      <Text size="sm" fw={600}>
                        {s.status}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="xs">{s.log || s.output}</Text>
                    </Table.Td>
                  </Table.Tr>
                )),
              )}
            </Table.Tbody>
          </Table>
        </>
      )}
    </Section>
  );
}

function EngineForm({ onDone }: { onDone: (r: any) => void }) {
  const p = useProject();
  const flavors = useQuery({ queryKey: ['flavors', p], queryFn: () => get(`/v2/${p}/enginemgr/flavors`) });
  const form = useForm({
    initialValues: { name: '', flavor: 'cse.s1.small2', authType: 'NONE', password: '', description: '' },
    validate: {
      name: (v) => (/^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$/.test(v) ? null : '3–24 letters, digits and -; a letter first, no - last'),
      password: (v, all) => (all.authType === 'RBAC' && v.length < 8 ? 'RBAC needs a root password of 8 characters or more' : null),
    },
  });
  const write = useWrite(
    (v: typeof form.values) => send('POST', `/v2/${p}/enginemgr/engines`, { name: v.name, description: v.description, payment: '1', flavor: v.flavor, authType: v.authType, ...(v.authType === 'RBAC' ? { auth_cred: { pwd: v.password } } : {}) }),
    onDone,
  );
  return (
    <form onSubmit={form.onSubmit((v) => write.mutate(v))} noValidate>
      <Stack>
        <ErrorAlert error={write.error} />
        <TextInput label="Name" withAsterisk {...form.getInputProps('name')} />
        <Select label="Flavor" data={(flavors.data?.data ?? [{ flavor: 'cse.s1.small2' }]).map((f: any) => f.flavor)} allowDeselect={false} {...form.getInputProps('flavor')} />
        <Select label="Authentication" data={['NONE', 'RBAC']} allowDeselect={false} {...form.getInputProps('authType')} />
        {form.values.authType === 'RBAC' && <PasswordInput label="Root password" {...form.getInputProps('password')} />}
        <TextInput label="Description" {...form.getInputProps('description')} />
        <Button type="submit" loading={write.isPending} data-testid="submit">
          Create
        </Button>
      </Stack>
    </form>
  );
}
