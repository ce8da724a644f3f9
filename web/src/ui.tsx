import { Alert, Badge, Button, Center, Group, Loader, Modal, Pagination, ScrollArea, Stack, Table, Text, TextInput, Title, type ButtonProps } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { messageOf } from './api';

// Widgets every page shares: titles, errors, tables with server-side paging, confirmations.

export function PageTitle({ title, children }: { title: ReactNode; children?: ReactNode }) {
  return (
    <Group justify="space-between" mb="md" wrap="wrap" gap="sm">
      <Title order={2} data-testid="page-title">
        {title}
      </Title>
      <Group gap="xs">{children}</Group>
    </Group>
  );
}

/** The API's own error message (and code), or nothing. */
export function ErrorAlert({ error, title = 'The request was refused' }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <Alert color="red" title={title} data-testid="error" mb="sm">
      {messageOf(error)}
    </Alert>
  );
}

export function Loading() {
  return (
    <Center p="xl">
      <Loader size="sm" />
    </Center>
  );
}

export interface Column<T> {
  title: string;
  render: (row: T) => ReactNode;
}

/** A table that scrolls sideways on a narrow window; `empty` is shown when there are no rows. */
export function DataTable<T>({ columns, rows, rowKey, empty, testId }: { columns: Column<T>[]; rows: T[] | undefined; rowKey: (row: T) => string; empty: string; testId?: string }) {
  if (!rows) return <Loading />;
  if (rows.length === 0)
    return (
      <Text c="dimmed" p="md" data-testid={testId ? `${testId}-empty` : undefined}>
        {empty}
      </Text>
    );
  return (
    <ScrollArea type="auto">
      <Table striped highlightOnHover miw={560} data-testid={testId}>
        <Table.Thead>
          <Table.Tr>
            {columns.map((c) => (
              <Table.Th key={c.title}>{c.title}</Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((r) => (
            <Table.Tr key={rowKey(r)}>
              {columns.map((c) => (
                <Table.Td key={c.title}>{c.render(r)}</Table.Td>
              ))}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollArea>
  );
}

/** Page numbers for a server-side list of `total` items. */
export function Pager({ total, page, pageSize, onChange }: { total: number; page: number; pageSize: number; onChange: (page: number) => void }) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  return (
    <Group justify="space-between" mt="sm">
      <Text size="sm" c="dimmed" data-testid="total">
        {total} in all
      </Text>
      {pages > 1 && <Pagination size="sm" total={pages} value={page} onChange={onChange} />}
    </Group>
  );
}

/** A filter box that applies on Enter or after a pause (the filter runs on the server). */
export function FilterInput({ value, onChange, placeholder, width = 240 }: { value: string; onChange: (v: string) => void; placeholder: string; width?: number }) {
  const [text, setText] = useState(value);
  return (
    <TextInput
      placeholder={placeholder}
      value={text}
      onChange={(e) => setText(e.currentTarget.value)}
      onKeyDown={(e) => e.key === 'Enter' && onChange(text.trim())}
      onBlur={() => onChange(text.trim())}
      aria-label={placeholder}
      w={width}
    />
  );
}

const STATUS_COLORS: Record<string, string> = {
  RUNNING: 'green',
  SUCCEEDED: 'green',
  Supported: 'green',
  UP: 'green',
  true: 'green',
  FAILED: 'red',
  PARTIALLY_FAILED: 'orange',
  DOWN: 'red',
  Disable: 'gray',
  STOPPED: 'gray',
  PENDING: 'yellow',
  GRAYING: 'violet',
  INITIALIZING: 'blue',
  UPGRADING: 'blue',
  DEPLOYING: 'blue',
  Available: 'green',
  Finished: 'green',
  Creating: 'blue',
  Executing: 'blue',
  Deleting: 'orange',
  CreateFailed: 'red',
  DeleteFailed: 'red',
  Failed: 'red',
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <Badge color={STATUS_COLORS[status] ?? STATUS_COLORS[status.toUpperCase()] ?? 'gray'} variant="light" data-testid="status">
      {status || '—'}
    </Badge>
  );
}

/** Runs a write, then refreshes every list on the page. Errors stay on the mutation for display. */
export function useWrite<A, R>(fn: (arg: A) => Promise<R>, onDone?: (r: R) => void) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: async (r) => {
      await client.invalidateQueries();
      onDone?.(r);
    },
  });
}

/**
 * A button that asks before it acts: the question in a dialog, the API's refusal shown in the
 * dialog, closed when the action succeeded.
 */
export function ConfirmButton({ label, title, message, action, onDone, ...button }: { label: ReactNode; title: string; message: ReactNode; action: () => Promise<unknown>; onDone?: () => void } & ButtonProps & { 'data-testid'?: string }) {
  const [open, setOpen] = useState(false);
  const write = useWrite(action, () => {
    setOpen(false);
    onDone?.();
  });
  return (
    <>
      <Button size="xs" variant="light" {...button} onClick={() => (write.reset(), setOpen(true))}>
        {label}
      </Button>
      <Modal opened={open} onClose={() => setOpen(false)} title={title} centered>
        <Stack>
          <div>{message}</div>
          <ErrorAlert error={write.error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button color={button.color ?? 'blue'} loading={write.isPending} onClick={() => write.mutate(undefined as never)} data-testid="confirm">
              Confirm
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

/** A button that opens a form in a dialog; the form gets `close`. */
export function FormButton({ label, title, size = 'lg', children, ...button }: { label: ReactNode; title: string; size?: string; children: (close: () => void) => ReactNode } & Omit<ButtonProps, 'children'> & { 'data-testid'?: string }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button size="xs" {...button} onClick={() => setOpen(true)}>
        {label}
      </Button>
      <Modal opened={open} onClose={() => setOpen(false)} title={title} size={size} centered>
        {open && children(() => setOpen(false))}
      </Modal>
    </>
  );
}

/** Milliseconds since the epoch as local date and time. */
export function fmtTime(ms: number | string | undefined): string {
  if (ms === undefined || ms === '' || ms === 0) return '—';
  const d = typeof ms === 'number' ? new Date(ms) : /^\d+$/.test(ms) ? new Date(Number(ms) * 1000) : new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toLocaleString();
}

/** How long ago, in words: "12 s ago", "3 min ago". @param ms time since the epoch */
export function ago(ms: number, nowMs = Date.now()): string {
  const s = Math.max(0, Math.round((nowMs - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** `[{key, value}]` labels as text. */
export function labelsText(labels: { key: string; value: string }[] | undefined): string {
  return (labels ?? []).map((l) => `${l.key}=${l.value}`).join(', ');
}

/** Parses `k=v` lines (or comma separated) into `[{key, value}]`. @throws Error naming the bad entry */
export function parsePairs(text: string, what = 'entry'): { key: string; value: string }[] {
  return text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const i = s.indexOf('=');
      if (i <= 0) throw new Error(`${what} "${s}" must look like name=value`);
      return { key: s.slice(0, i).trim(), value: s.slice(i + 1).trim() };
    });
}

export function Section({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <Stack gap="xs" mt="lg">
      <Group justify="space-between">
        <Title order={4}>{title}</Title>
        <Group gap="xs">{actions}</Group>
      </Group>
      {children}
    </Stack>
  );
}
