import { Button, Select, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { get, send } from '../api';
import { useProject } from '../session';
import { ConfirmButton, DataTable, ErrorAlert, FormButton, PageTitle, StatusBadge, fmtTime, useWrite } from '../ui';

const STACK_TYPES = ['Java', 'Tomcat', 'Nodejs', 'Python', 'Go', 'Docker'];

/** Runtime stacks: the system ones and custom ones (create, release, cancel release, delete). */
export function Stacks() {
  const p = useProject();
  const list = useQuery({ queryKey: ['stacks', p], queryFn: () => get(`/v3/${p}/cas/runtimestacks`) });
  const release = (id: string, action: 'Supported' | 'Disable') => () => send('POST', `/v3/${p}/cas/runtimestacks/action`, { action, parameters: { runtimestacks: [{ id }] } });
  return (
    <>
      <PageTitle title="Runtime stacks">
        <FormButton label="Create stack" title="Create a custom runtime stack">
          {(close) => <StackForm onDone={close} />}
        </FormButton>
      </PageTitle>
      <ErrorAlert error={list.error} />
      <DataTable
        testId="stacks"
        rows={list.data?.runtime_stacks}
        rowKey={(s: any) => s.id}
        empty="No runtime stacks."
        columns={[
          { title: 'Name', render: (s) => s.name },
          { title: 'Type', render: (s) => s.type },
          { title: 'Version', render: (s) => s.version },
          { title: 'Deploy mode', render: (s) => s.deploy_mode },
          { title: 'Kind', render: (s) => (s.system === 1 ? 'system' : 'custom') },
          { title: 'Status', render: (s) => <StatusBadge status={s.status} /> },
          { title: 'Components', render: (s) => s.component_count ?? 0 },
          {
            title: '',
            render: (s) =>
              s.system === 1 ? null : (
                <>
                  {s.status === 'Disable' ? (
                    <ConfirmButton label="Release" title="Release stack" message={`Release ${s.name}?`} action={release(s.id, 'Supported')} />
                  ) : (
                    <ConfirmButton label="Cancel release" title="Cancel release" message={`Cancel the release of ${s.name}?`} action={release(s.id, 'Disable')} />
                  )}{' '}
                  <ConfirmButton label="Delete" color="red" title="Delete stack" message={`Delete ${s.name}?`} action={() => send('DELETE', `/v3/${p}/cas/runtimestacks/${s.id}`)} />
                </>
              ),
          },
        ]}
      />
    </>
  );
}

function StackForm({ onDone }: { onDone: () => void }) {
  const p = useProject();
  const form = useForm({
    initialValues: { name: '', type: 'Java', version: '1.0.0', deploy_mode: 'virtualmachine', description: '' },
    validate: {
      name: (v) => (/^[A-Za-z0-9/_-]{2,64}$/.test(v) ? null : '2–64 letters, digits, /, - or _'),
      version: (v) => (/^\d+\.\d+\.\d+$/.test(v) ? null : 'A version looks like 1.0.0'),
      description: (v) => (v.length <= 512 ? null : 'At most 512 characters'),
    },
  });
  const write = useWrite((v: typeof form.values) => send('POST', `/v3/${p}/cas/runtimestacks`, v), onDone);
  return (
    <form onSubmit={form.onSubmit((v) => write.mutate(v))} noValidate>
      <Stack>
        <ErrorAlert error={write.error} />
        <TextInput label="Name" withAsterisk {...form.getInputProps('name')} />
        <Select label="Type" data={STACK_TYPES} allowDeselect={false} {...form.getInputProps('type')} />
        <TextInput label="Version" withAsterisk {...form.getInputProps('version')} />
        <Select label="Deploy mode" data={['virtualmachine', 'container']} allowDeselect={false} {...form.getInputProps('deploy_mode')} />
        <TextInput label="Description" {...form.getInputProps('description')} />
        <Button type="submit" loading={write.isPending} data-testid="submit">
          Create
        </Button>
      </Stack>
    </form>
  );
}

/** Add-ons of an environment: metadata, install, redeploy, delete. */
export function Addons() {
  const p = useProject();
  const envs = useQuery({ queryKey: ['envs', p, 'all'], queryFn: () => get(`/v3/${p}/cas/environments`, { limit: 100 }) });
  const [env, setEnv] = useState<string | null>(null);
  const envId = env ?? envs.data?.environments?.[0]?.id ?? null;
  const base = `/v3/${p}/cas/environments/${envId}`;
  const addons = useQuery({ queryKey: ['addons', p, envId], enabled: !!envId, queryFn: () => get(`${base}/addons`) });
  const meta = useQuery({ queryKey: ['addons-meta', p, envId], enabled: !!envId, queryFn: () => get(`${base}/addons-metadata`) });
  return (
    <>
      <PageTitle title="Add-ons">
        <Select aria-label="environment" placeholder="Environment" size="xs" data={(envs.data?.environments ?? []).map((e: any) => ({ value: e.id, label: e.name }))} value={envId} onChange={setEnv} />
        {envId && (
          <FormButton label="Install add-on" title="Install an add-on">
            {(close) => <AddonForm base={base} names={(meta.data?.addons ?? []).map((a: any) => a.name)} onDone={close} />}
          </FormButton>
        )}
      </PageTitle>
      <ErrorAlert error={envs.error ?? addons.error} />
      {!envId && envs.data && <Text c="dimmed">Add-ons are installed in an environment: create an environment first.</Text>}
      {envId && (
        <>
          <Text size="sm" c="dimmed" mb="xs">
            Available: {(meta.data?.addons ?? []).map((a: any) => `${a.name} ${a.latest_version}`).join(', ') || '—'}
          </Text>
          <DataTable
            testId="addons"
            rows={addons.data?.addons}
            rowKey={(a: any) => a.id}
            empty="No add-ons in this environment."
            columns={[
              { title: 'Name', render: (a) => a.name },
              { title: 'Version', render: (a) => a.version },
              { title: 'Status', render: (a) => <StatusBadge status={a.status} /> },
              { title: 'Created', render: (a) => fmtTime(a.create_time) },
              {
                title: '',
                render: (a) => (
                  <>
                    <ConfirmButton label="Redeploy" title="Redeploy add-on" message={`Redeploy ${a.name}?`} action={() => send('POST', `${base}/addons/${a.id}/action`, { action: 'redeploy' })} />{' '}
                    <ConfirmButton label="Delete" color="red" title="Delete add-on" message={`Delete ${a.name}?`} action={() => send('DELETE', `${base}/addons/${a.id}`)} />
                  </>
                ),
              },
            ]}
          />
        </>
      )}
    </>
  );
}

function AddonForm({ base, names, onDone }: { base: string; names: string[]; onDone: () => void }) {
  const form = useForm({
    initialValues: { name: names[0] ?? 'sermantInjector', cce_id: '', cse_id: '' },
    validate: { name: (v) => (v ? null : 'Choose an add-on'), cce_id: (v) => (v.trim() ? null : 'The cluster (cce_id) is required') },
  });
  const write = useWrite((v: typeof form.values) => send('POST', `${base}/addons`, { name: v.name, cce_id: v.cce_id.trim(), ...(v.cse_id.trim() ? { cse_id: v.cse_id.trim() } : {}) }), onDone);
  return (
    <form onSubmit={form.onSubmit((v) => write.mutate(v))} noValidate>
      <Stack>
        <ErrorAlert error={write.error} />
        <Select label="Add-on" data={names.length ? names : ['sermantInjector']} allowDeselect={false} {...form.getInputProps('name')} />
        <TextInput label="Cluster id (cce_id)" withAsterisk description="A cce or custom_k8s resource bound to the environment" {...form.getInputProps('cce_id')} />
        <TextInput label="Engine id (cse_id)" {...form.getInputProps('cse_id')} />
        <Button type="submit" loading={write.isPending} data-testid="submit">
          Install
        </Button>
      </Stack>
    </form>
  );
}
