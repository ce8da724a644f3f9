import { Anchor, Card, Group, SimpleGrid, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { get } from '../api';
import { useProject } from '../session';
import { DataTable, ErrorAlert, PageTitle, Section, StatusBadge, fmtTime } from '../ui';

/** Environments, applications and components at a glance, with the latest jobs. */
export function Overview() {
  const p = useProject();
  const envs = useQuery({ queryKey: ['envs', p, 'count'], queryFn: () => get(`/v3/${p}/cas/environments`, { limit: 1 }) });
  const apps = useQuery({ queryKey: ['apps', p, 'count'], queryFn: () => get(`/v3/${p}/cas/applications`, { limit: 1 }) });
  const comps = useQuery({ queryKey: ['components', p, 'overview'], queryFn: () => get(`/v3/${p}/cas/components`, { limit: 100, order_by: 'update_time' }), refetchInterval: 5000 });
  const list: any[] = comps.data?.components ?? [];
  const byStatus = new Map<string, number>();
  for (const c of list) byStatus.set(c.status.component_status, (byStatus.get(c.status.component_status) ?? 0) + 1);
  // Recent jobs: the last job of the most recently changed components.
  const recent = [...list].filter((c) => c.status.last_job_id).sort((a, b) => b.status.update_time - a.status.update_time).slice(0, 8);
  const jobs = useQuery({
    queryKey: ['jobs', p, recent.map((c) => c.status.last_job_id).join()],
    enabled: comps.isSuccess,
    refetchInterval: 5000,
    queryFn: () =>
      Promise.all(
        recent.map(async (c) => {
          const j = await get(`/v3/${p}/cas/jobs/${c.status.last_job_id}`).catch(() => undefined);
          return { component: c, job: j?.job, tasks: j?.tasks ?? [] };
        }),
      ),
  });
  const count = (q: typeof envs) => (q.data ? String(q.data.count ?? 0) : '…');
  return (
    <>
      <PageTitle title="Overview" />
      <ErrorAlert error={envs.error ?? apps.error ?? comps.error} />
      <SimpleGrid cols={{ base: 1, xs: 3 }}>
        <Tile title="Environments" value={count(envs)} to="/environments" />
        <Tile title="Applications" value={count(apps)} to="/applications" />
        <Tile title="Components" value={comps.data ? String(comps.data.count) : '…'} to="/components">
          <Group gap={6} mt={4}>
            {[...byStatus].map(([s, n]) => (
              <Group gap={2} key={s}>
                <StatusBadge status={s} />
                <Text size="sm">{n}</Text>
              </Group>
            ))}
          </Group>
        </Tile>
      </SimpleGrid>
      <Section title="Components">
        <DataTable
          testId="components"
          rows={comps.data ? list.slice(0, 20) : undefined}
          rowKey={(c: any) => c.id}
          empty="No components yet: create an environment and an application, then add a component to the application."
          columns={[
            { title: 'Component', render: (c) => <Anchor component={Link} to={`/applications/${c.application_id}/components/${c.id}`}>{c.name}</Anchor> },
            { title: 'Application', render: (c) => c.application_name },
            { title: 'Environment', render: (c) => c.environment_name },
            { title: 'Version', render: (c) => c.version },
            { title: 'Replicas', render: (c) => `${c.status.available_replica}/${c.status.replica}` },
            { title: 'Status', render: (c) => <StatusBadge status={c.status.component_status} /> },
          ]}
        />
      </Section>
      <Section title="Recent jobs">
        <DataTable
          testId="jobs"
          rows={comps.data && list.length === 0 ? [] : jobs.data}
          rowKey={(r: any) => r.component.status.last_job_id}
          empty="No jobs yet."
          columns={[
            { title: 'Job', render: (r) => <Text size="xs" ff="monospace">{r.component.status.last_job_id}</Text> },
            { title: 'Component', render: (r) => <Anchor component={Link} to={`/applications/${r.component.application_id}/components/${r.component.id}`}>{r.component.name}</Anchor> },
            { title: 'Type', render: (r) => r.job?.job_type ?? '—' },
            { title: 'Tasks', render: (r) => `${r.tasks.filter((t: any) => t.task_status === 'SUCCEEDED').length}/${r.tasks.length}` },
            { title: 'Started', render: (r) => fmtTime(r.tasks[0]?.created_at) },
            { title: 'Status', render: (r) => <StatusBadge status={r.job?.execution_status ?? 'UNKNOWN'} /> },
          ]}
        />
      </Section>
    </>
  );
}

function Tile({ title, value, to, children }: { title: string; value: string; to: string; children?: React.ReactNode }) {
  return (
    <Card withBorder component={Link} to={to} data-testid={`tile-${title.toLowerCase()}`}>
      <Text c="dimmed" size="sm">
        {title}
      </Text>
      <Text fw={700} size="xl" data-testid="count">
        {value}
      </Text>
      {children}
    </Card>
  );
}
