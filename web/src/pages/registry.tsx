import { Anchor, Badge, Button, Code, Group, PasswordInput, Select, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError, get, request } from '../api';
import { useSession } from '../session';
import { DataTable, ErrorAlert, FilterInput, Loading, PageTitle, Section, StatusBadge, ago, fmtTime, useWrite } from '../ui';

// The registry and the config center speak ServiceComb's API under their own project segment
// (clients use `default`), separate from the ServiceStage project chosen in the header.
export function useRegistryProject(): [string, (v: string) => void] {
  const [value, set] = useState(() => localStorage.getItem('openstage.console.registryProject') ?? 'default');
  return [value, (v: string) => (localStorage.setItem('openstage.console.registryProject', v), set(v))];
}

export function RegistryProjectInput({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  return (
    <Group gap={6} wrap="nowrap">
      <Text size="sm" c="dimmed">
        Registry project
      </Text>
      <FilterInput placeholder="Registry project (default)" value={value} onChange={(v) => onChange(v || 'default')} width={130} />
    </Group>
  );
}

/** When the server runs with --rbac, the registry and config center want an engine account's token. */
export function RbacGate({ error }: { error: unknown }) {
  const session = useSession();
  const form = useForm({ initialValues: { name: 'root', password: '' }, validate: { name: (v) => (v ? null : 'Required'), password: (v) => (v ? null : 'Required') } });
  const write = useWrite(async (v: typeof form.values) => (await request<{ token: string }>('/v4/token', { method: 'POST', body: v })).body, (r) => session.setRbacToken(r.token));
  if (!(error instanceof ApiError) || error.status !== 401) return <ErrorAlert error={error} />;
  return (
    <form onSubmit={form.onSubmit((v) => write.mutate(v))} noValidate>
      <Stack maw={360}>
        <Text>This registry checks RBAC: sign in with an engine account.</Text>
        <ErrorAlert error={write.error} />
        <TextInput label="Account" {...form.getInputProps('name')} />
        <PasswordInput label="Password" {...form.getInputProps('password')} />
        <Button type="submit" loading={write.isPending}>
          Get token
        </Button>
      </Stack>
    </form>
  );
}

/** Microservices of a registry project: filtered by app and name, with a dependency graph. */
export function Microservices() {
  const [rp, setRp] = useRegistryProject();
  const [filter, setFilter] = useState('');
  const services = useQuery({ queryKey: ['services', rp], queryFn: () => get(`/v4/${rp}/registry/microservices`), refetchInterval: 10000 });
  const list: any[] = (services.data?.services ?? []).filter((s: any) => s.serviceId !== undefined && (!filter || `${s.appId}/${s.serviceName}`.toLowerCase().includes(filter.toLowerCase())));
  const graph = useQuery({
    queryKey: ['dependencies', rp, list.map((s) => s.serviceId).join()],
    enabled: services.isSuccess,
    queryFn: async () => {
      const edges: [string, string][] = [];
      for (const s of list.slice(0, 60)) {
        const r = await get(`/v4/${rp}/registry/microservices/${s.serviceId}/providers`).catch(() => ({ providers: [] }));
        for (const prov of r.providers ?? []) edges.push([s.serviceId, prov.serviceId]);
      }
      return edges;
    },
  });
  return (
    <>
      <PageTitle title="Microservices">
        <RegistryProjectInput value={rp} onChange={setRp} />
        <FilterInput placeholder="Filter by app or name" value={filter} onChange={setFilter} />
      </PageTitle>
      {services.error ? (
        <RbacGate error={services.error} />
      ) : (
        <>
          <DataTable
            testId="services"
            rows={services.data ? list : undefined}
            rowKey={(s: any) => s.serviceId}
            empty="No microservices registered in this project."
            columns={[
              { title: 'Service', render: (s) => <Anchor component={Link} to={`/microservices/${s.serviceId}`}>{s.serviceName}</Anchor> },
              { title: 'App', render: (s) => s.appId },
              { title: 'Version', render: (s) => s.version },
              { title: 'Environment', render: (s) => s.environment || '—' },
              { title: 'Framework', render: (s) => s.framework?.name ?? '—' },
              { title: 'Registered', render: (s) => fmtTime(s.timestamp) },
            ]}
          />
          <Section title="Dependencies">
            {graph.data ? <DependencyGraph services={list} edges={graph.data} /> : <Loading />}
          </Section>
        </>
      )}
    </>
  );
}

/** Consumers on the left, providers to the right: columns by depth, arrows from consumer to provider. */
export function DependencyGraph({ services, edges }: { services: any[]; edges: [string, string][] }) {
  if (services.length === 0) return <Text c="dimmed">Nothing to draw.</Text>;
  const depth = new Map<string, number>(services.map((s) => [s.serviceId, 0]));
  for (let round = 0; round < services.length; round++) {
    let moved = false;
    for (const [c, p] of edges) {
      const want = (depth.get(c) ?? 0) + 1;
      if (depth.has(p) && depth.get(p)! < want && want < services.length) {
        depth.set(p, want);
        moved = true;
      }
    }
    if (!moved) break;
  }
  const columns: any[][] = [];
  for (const s of services) (columns[depth.get(s.serviceId)!] ??= []).push(s);
  const W = 190;
  const H = 46;
  const pos = new Map<string, { x: number; y: number }>();
  columns.forEach((col, i) => col?.forEach((s, j) => pos.set(s.serviceId, { x: 10 + i * (W + 60), y: 10 + j * (H + 16) })));
  const width = 20 + columns.length * (W + 60);
  const height = 20 + Math.max(...columns.map((c) => c?.length ?? 0)) * (H + 16);
  return (
    <div style={{ overflowX: 'auto' }}>
      <svg width={width} height={height} data-testid="dependency-graph" role="img" aria-label="dependency graph">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">
            <path d="M0,0 L10,5 L0,10 z" fill="#5c7cfa" />
          </marker>
        </defs>
        {edges.map(([c, p]) => {
          const a = pos.get(c);
          const b = pos.get(p);
          if (!a || !b) return null;
          return <line key={`${c}>${p}`} x1={a.x + W} y1={a.y + H / 2} x2={b.x} y2={b.y + H / 2} stroke="#5c7cfa" strokeWidth={1.5} markerEnd="url(#arrow)" />;
        })}
        {services.map((s) => {
          const at = pos.get(s.serviceId)!;
          return (
            <g key={s.serviceId} transform={`translate(${at.x},${at.y})`}>
              <rect width={W} height={H} rx={6} fill="#edf2ff" stroke="#748ffc" />
              <text x={10} y={19} fontSize={13} fontWeight={600} fill="#1c2a5c">
                {s.serviceName.slice(0, 24)}
              </text>
              <text x={10} y={36} fontSize={11} fill="#495057">
                {`${s.appId} · ${s.version}`.slice(0, 30)}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}

/** One microservice: its versions, instances (status, time since last heartbeat), schemas. */
export function MicroservicePage() {
  const { id } = useParams();
  const [rp] = useRegistryProject();
  const base = `/v4/${rp}/registry/microservices/${id}`;
  const service = useQuery({ queryKey: ['service', rp, id], queryFn: () => get(base) });
  const all = useQuery({ queryKey: ['services', rp], queryFn: () => get(`/v4/${rp}/registry/microservices`) });
  const instances = useQuery({ queryKey: ['instances', rp, id], queryFn: () => get(`${base}/instances`), refetchInterval: 5000 });
  const leases = useQuery({ queryKey: ['leases', rp, id], queryFn: () => get(`${base}/leases`), refetchInterval: 5000 });
  const schemas = useQuery({ queryKey: ['schemas', rp, id], queryFn: () => get(`${base}/schemas`, { withSchema: 1 }) });
  const [schema, setSchema] = useState<string | null>(null);
  if (service.error) return <RbacGate error={service.error} />;
  if (!service.data) return <Loading />;
  const s = service.data.service;
  const versions = (all.data?.services ?? []).filter((x: any) => x.appId === s.appId && x.serviceName === s.serviceName && (x.environment ?? '') === (s.environment ?? ''));
  const lease = new Map<string, any>((leases.data?.leases ?? []).map((l: any) => [l.instanceId, l]));
  const schemaList: any[] = schemas.data?.schemas ?? [];
  const shown = schemaList.find((x) => x.schemaId === schema) ?? schemaList[0];
  return (
    <>
      <PageTitle title={`Microservice ${s.serviceName}`} />
      <Text size="sm" c="dimmed">
        <Code>{s.serviceId}</Code> · app {s.appId} · version {s.version} · {s.environment || 'no environment'} · registered {fmtTime(s.timestamp)}
      </Text>
      <Section title="Versions">
        <Group gap="xs">
          {versions.map((v: any) => (
            <Badge key={v.serviceId} component={Link} to={`/microservices/${v.serviceId}`} variant={v.serviceId === s.serviceId ? 'filled' : 'light'} style={{ cursor: 'pointer' }}>
              {v.version}
            </Badge>
          ))}
        </Group>
      </Section>
      <Section title="Instances">
        <ErrorAlert error={instances.error} />
        <DataTable
          testId="instances"
          rows={instances.data ? (instances.data.instances ?? []) : undefined}
          rowKey={(i: any) => i.instanceId}
          empty="No instances: none registered, or every lease ended."
          columns={[
            { title: 'Instance', render: (i) => <Code>{i.instanceId}</Code> },
            { title: 'Host', render: (i) => i.hostName },
            { title: 'Endpoints', render: (i) => (i.endpoints ?? []).join(' ') },
            { title: 'Status', render: (i) => <StatusBadge status={i.status ?? 'UP'} /> },
            { title: 'Last heartbeat', render: (i) => (lease.get(i.instanceId) ? <span data-testid="heartbeat">{ago(Number(lease.get(i.instanceId).lastHeartbeatAtMs))}</span> : '—') },
            { title: 'Lease', render: (i) => (lease.get(i.instanceId) ? `${lease.get(i.instanceId).ttlSeconds} s` : '—') },
            { title: 'Registered', render: (i) => fmtTime(i.timestamp) },
          ]}
        />
      </Section>
      <Section title="Schemas">
        {schemaList.length === 0 ? (
          <Text c="dimmed">No schemas.</Text>
        ) : (
          <>
            <Select aria-label="schema" data={schemaList.map((x) => x.schemaId)} value={shown?.schemaId ?? null} onChange={setSchema} w={300} />
            <pre data-testid="schema" style={{ fontSize: 12, margin: 0, padding: 8, border: '1px solid var(--mantine-color-gray-3)', overflow: 'auto', maxHeight: 420 }}>
              {shown?.schema ?? '(summary only)'}
            </pre>
          </>
        )}
      </Section>
    </>
  );
}
