import { Anchor, Badge, Button, Code, Group, NumberInput, Paper, ScrollArea, Select, SimpleGrid, Stack, Switch, Table, Text, TextInput, Timeline } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { get, send } from '../api';
import { useProject } from '../session';
import { ConfirmButton, DataTable, ErrorAlert, FormButton, Loading, PageTitle, Section, StatusBadge, fmtTime, useWrite } from '../ui';

const VERSION = /^\d+\.\d+\.\d+(\.\d+)?$/;
const BUSY = new Set(['PENDING', 'DEPLOYING', 'UPGRADING', 'INITIALIZING', 'DELETING']);

/** One component: status, replicas, the live job, logs, deploy records with rollback, actions. */
export function ComponentPage() {
  const p = useProject();
  const { appId, id } = useParams();
  const navigate = useNavigate();
  const base = `/v3/${p}/cas/applications/${appId}/components/${id}`;
  const comp = useQuery({ queryKey: ['component', p, id], queryFn: () => get(base), refetchInterval: (q) => (BUSY.has(q.state.data?.status?.component_status) ? 1500 : 4000) });
  const records = useQuery({ queryKey: ['records', p, id], queryFn: () => get(`${base}/records`, { limit: 20 }), refetchInterval: 5000 });
  const [jobId, setJobId] = useState<string>();
  const shownJob = jobId ?? comp.data?.status.last_job_id;
  if (comp.error) return <ErrorAlert error={comp.error} />;
  if (!comp.data) return <Loading />;
  const c = comp.data;
  const s = c.status;
  const act = (action: string, parameters?: Record<string, unknown>) => () => send('POST', `${base}/action`, { action, ...(parameters ? { parameters } : {}) }).then((r: any) => setJobId(r.job_id));
  return (
    <>
      <PageTitle
        title={
          <Group gap="sm">
            <span>Component {c.name}</span>
            <StatusBadge status={s.component_status} />
          </Group>
        }
      >
        <FormButton label="Upgrade" title={`Upgrade ${c.name}`} data-testid="upgrade">
          {(close) => <UpgradeForm base={base} component={c} onDone={(r) => (setJobId(r.job_id), close())} />}
        </FormButton>
        <FormButton label="Scale" title={`Scale ${c.name}`} variant="light" data-testid="scale">
          {(close) => <ScaleForm replica={s.replica} act={(n) => act('scale', { replica: n })()} onDone={close} />}
        </FormButton>
        <ConfirmButton label="Restart" title="Restart" message={`Restart every replica of ${c.name}?`} action={act('restart')} data-testid="restart" />
        {s.component_status === 'STOPPED' ? (
          <ConfirmButton label="Start" title="Start" message={`Start ${c.name}?`} action={act('start')} />
        ) : (
          <ConfirmButton label="Stop" color="orange" title="Stop" message={`Stop every replica of ${c.name}?`} action={act('stop')} />
        )}
        {s.component_status === 'GRAYING' && <ConfirmButton label="Continue release" color="violet" title="Continue the gray release" message="Roll the new version out to the remaining replicas?" action={act('continue_deploy')} />}
        <ConfirmButton label="Delete" color="red" title="Delete component" message={`Delete ${c.name} and stop its replicas?`} action={() => send('DELETE', base)} onDone={() => navigate(`/applications/${appId}`)} />
      </PageTitle>
      {s.fail_detail && (
        <Paper withBorder p="sm" mb="sm" c="red">
          {s.fail_detail}
        </Paper>
      )}
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }} mb="sm">
        <Fact label="Application" value={<Anchor component={Link} to={`/applications/${appId}`}>{c.application_name}</Anchor>} />
        <Fact label="Environment" value={<Anchor component={Link} to={`/environments/${c.environment_id}`}>{c.environment_name}</Anchor>} />
        <Fact label="Version" value={<span data-testid="version">{c.version}</span>} />
        <Fact label="Replicas (ready/wanted)" value={<span data-testid="replicas">{`${s.available_replica}/${s.replica}`}</span>} />
        <Fact label="Runtime stack" value={`${c.runtime_stack?.name} (${c.runtime_stack?.type})`} />
        <Fact label="Source" value={<Text size="sm" style={{ wordBreak: 'break-all' }}>{c.source?.repo_url ?? c.source?.url} {c.source?.repo_ref && `@ ${c.source.repo_ref}`}</Text>} />
        <Fact label="Artifact" value={<Text size="xs" style={{ wordBreak: 'break-all' }}>{s.artifact?.url || '—'}</Text>} />
        <Fact label="Updated" value={fmtTime(s.update_time)} />
      </SimpleGrid>
      <Section title="Replicas">
        <DataTable
          testId="instances"
          rows={s.instances}
          rowKey={(i: any) => i.instance_id}
          empty="No replica runs."
          columns={[
            { title: 'Instance', render: (i) => <Code>{i.instance_id}</Code> },
            { title: 'Version', render: (i) => i.version },
            { title: 'Port', render: (i) => i.port },
            { title: 'State', render: (i) => <StatusBadge status={i.state} /> },
            { title: 'Ready', render: (i) => <Badge color={i.ready ? 'green' : 'gray'} variant="light">{i.ready ? 'ready' : 'not ready'}</Badge> },
            { title: 'Restarts', render: (i) => i.restarts },
          ]}
        />
      </Section>
      {shownJob && <JobProgress jobId={shownJob} />}
      <Logs base={base} />
      <Section title="Deploy records">
        <ErrorAlert error={records.error} />
        <DataTable
          testId="records"
          rows={records.data?.records}
          rowKey={(r: any) => r.jobs[0]?.job_id ?? r.begin_time}
          empty="No deployments yet."
          columns={[
            { title: 'Version', render: (r) => <Group gap={4}>{r.version}{r.current_used && <Badge size="xs">current</Badge>}</Group> },
            { title: 'Type', render: (r) => r.deploy_type },
            { title: 'Status', render: (r) => <StatusBadge status={r.status} /> },
            { title: 'Started', render: (r) => fmtTime(r.begin_time) },
            { title: 'Ended', render: (r) => fmtTime(r.end_time) },
            { title: 'Job', render: (r) => <Anchor size="xs" onClick={() => setJobId(r.jobs[0]?.job_id)}>{r.jobs[0]?.job_id}</Anchor> },
            {
              title: '',
              render: (r) =>
                r.current_used || r.status !== 'SUCCEEDED' ? null : (
                  <ConfirmButton label={`Roll back to ${r.version}`} color="orange" title="Roll back" message={`Run the stored artifact of version ${r.version} again, at the current replica count?`} action={act('rollback', { version: r.version })} data-testid={`rollback-${r.version}`} />
                ),
            },
          ]}
        />
      </Section>
    </>
  );
}

function Fact({ label, value }: { label: string; value: React.ReactNode }) {
  return (
    <Paper withBorder p="xs">
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <div>{value}</div>
    </Paper>
  );
}

/** A job's tasks as they run (polled every second until the job ends). */
export function JobProgress({ jobId }: { jobId: string }) {
  const p = useProject();
  const job = useQuery({ queryKey: ['job', p, jobId], queryFn: () => get(`/v3/${p}/cas/jobs/${jobId}`), refetchInterval: (q) => (q.state.data?.job?.execution_status === 'RUNNING' || !q.state.data ? 1000 : false) });
  const cancel = useWrite(() => send('POST', `/v3/${p}/cas/jobs/${jobId}/action`, { action: 'cancel' }));
  const tasks: any[] = job.data?.tasks ?? [];
  const running = job.data?.job?.execution_status === 'RUNNING';
  return (
    <Section
      title="Job"
      actions={
        running && (
          <Button size="xs" variant="light" color="red" onClick={() => cancel.mutate(undefined)} loading={cancel.isPending}>
            Cancel job
          </Button>
        )
      }
    >
      <ErrorAlert error={job.error ?? cancel.error} />
      <Group gap="sm">
        <Code>{jobId}</Code>
        {job.data && <StatusBadge status={job.data.job.execution_status} />}
        {job.data && <Text size="sm">{job.data.job.job_type}</Text>}
      </Group>
      <Timeline active={tasks.findIndex((t) => t.task_status === 'RUNNING')} bulletSize={16} lineWidth={2} data-testid="job-tasks">
        {tasks.map((t) => (
          <Timeline.Item key={t.task_id} title={<Group gap="xs"><Text size="sm" fw={600}>{t.task_name}</Text><StatusBadge status={t.task_status} /></Group>} color={t.task_status === 'FAILED' ? 'red' : t.task_status === 'SUCCEEDED' ? 'green' : 'blue'}>
            <Text size="xs" c="dimmed">
              {fmtTime(t.created_at)}
            </Text>
            {t.messages && (
              <Text size="xs" ff="monospace" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
                {Array.isArray(t.messages) ? t.messages.join('\n') : t.messages}
              </Text>
            )}
          </Timeline.Item>
        ))}
      </Timeline>
    </Section>
  );
}

/** The last lines of each replica's log; follow polls every 2 s. */
function Logs({ base }: { base: string }) {
  const [lines, setLines] = useState<number | string>(100);
  const [follow, setFollow] = useState(false);
  const n = Math.min(1000, Math.max(1, Number(lines) || 100));
  const logs = useQuery({ queryKey: ['logs', base, n], queryFn: () => get(`${base}/logs`, { lines: n }), refetchInterval: follow ? 2000 : false });
  return (
    <Section
      title="Logs"
      actions={
        <>
          <NumberInput size="xs" w={90} min={1} max={1000} value={lines} onChange={setLines} aria-label="lines" />
          <Switch label="Follow" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} data-testid="follow" />
          <Button size="xs" variant="default" onClick={() => void logs.refetch()} data-testid="refresh-logs">
            Refresh
          </Button>
        </>
      }
    >
      <ErrorAlert error={logs.error} />
      {(logs.data?.logs ?? []).length === 0 && <Text c="dimmed">No logs yet.</Text>}
      {(logs.data?.logs ?? []).map((l: any) => (
        <Paper key={l.instance_id} withBorder p="xs" bg="dark.8" data-testid="log">
          <Text size="xs" c="gray.5">
            {l.instance_id} · {l.version}
          </Text>
          <ScrollArea.Autosize mah={260}>
            <Text component="pre" size="xs" c="gray.2" m={0} style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
              {l.lines.join('\n')}
            </Text>
          </ScrollArea.Autosize>
        </Paper>
      ))}
    </Section>
  );
}

function ScaleForm({ replica, act, onDone }: { replica: number; act: (n: number) => Promise<unknown>; onDone: () => void }) {
  const form = useForm({ initialValues: { replica }, validate: { replica: (v) => (Number.isInteger(v) && v >= 0 && v <= 100 ? null : '0 to 100 replicas') } });
  const write = useWrite((v: { replica: number }) => act(v.replica), onDone);
  return (
    <form onSubmit={form.onSubmit((v) => write.mutate(v))} noValidate>
      <Stack>
        <ErrorAlert error={write.error} />
        <NumberInput label="Replicas" min={0} max={100} {...form.getInputProps('replica')} data-testid="replica-input" />
        <Text size="sm">Confirm: the component is scaled from {replica} to {form.values.replica} replicas.</Text>
        <Button type="submit" loading={write.isPending} data-testid="submit">
          Scale
        </Button>
      </Stack>
    </form>
  );
}

/** Upgrade: the stored body again with a new version, source ref and release strategy (PUT). */
function UpgradeForm({ base, component, onDone }: { base: string; component: any; onDone: (r: any) => void }) {
  const form = useForm({
    initialValues: { version: component.version, ref: component.source?.repo_ref ?? '', url: component.source?.repo_url ?? component.source?.url ?? '', strategy: component.deploy_strategy?.type ?? 'OneBatchRelease' },
    validate: { version: (v) => (VERSION.test(v) ? null : 'A version looks like 1.0.1'), url: (v) => (v.trim() ? null : 'The source URL is required') },
  });
  const write = useWrite((v: typeof form.values) => {
    const { id: _id, status: _s, environment_name: _e, application_name: _a, ...body } = component;
    const source = { ...component.source, ...(component.source?.kind === 'code' ? { repo_url: v.url.trim(), repo_ref: v.ref.trim() || 'main' } : { url: v.url.trim() }) };
    const deploy_strategy = v.strategy === 'GrayRelease' ? { type: 'GrayRelease', gray_release: { first_batch_replica: 1, remaining_batch: 1 } } : v.strategy === 'RollingRelease' ? { type: 'RollingRelease', rolling_release: { batches: 2 } } : { type: 'OneBatchRelease' };
    return send('PUT', base, { ...body, version: v.version, source, deploy_strategy });
  }, onDone);
  return (
    <form onSubmit={form.onSubmit((v) => write.mutate(v))} noValidate>
      <Stack>
        <ErrorAlert error={write.error} />
        <TextInput label="New version" withAsterisk {...form.getInputProps('version')} />
        <TextInput label={component.source?.kind === 'code' ? 'Clone URL' : 'URL'} {...form.getInputProps('url')} />
        {component.source?.kind === 'code' && <TextInput label="Branch or tag" {...form.getInputProps('ref')} />}
        <Select label="Release" data={[{ value: 'OneBatchRelease', label: 'One batch' }, { value: 'RollingRelease', label: 'Rolling (2 batches)' }, { value: 'GrayRelease', label: 'Gray (1 replica first, then continue)' }]} allowDeselect={false} {...form.getInputProps('strategy')} />
        <Table>
          <Table.Tbody>
            <Table.Tr>
              <Table.Td c="dimmed">Running now</Table.Td>
              <Table.Td>{component.version}</Table.Td>
            </Table.Tr>
          </Table.Tbody>
        </Table>
        <Button type="submit" loading={write.isPending} data-testid="submit">
          Upgrade
        </Button>
      </Stack>
    </form>
  );
}
