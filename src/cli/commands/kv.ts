import type { Command } from 'commander';
import { CliError, EXIT, notFound, usageError } from '../errors.js';
import { print, printList } from '../output.js';
import type { Session } from '../session.js';
import { serviceCombHeaders, serviceCombOptions } from './registry.js';
import type { WithSession } from './types.js';

interface KvOptions {
  scProject: string;
  domain?: string;
  scToken?: string;
  label: string[];
}

const collect = (v: string, acc: string[]): string[] => [...acc, v];

/** `--label k=v` (or `k:v`) options as `{k: v}`. @throws CliError exit 2 */
export function parseLabels(labels: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) {
    const m = /^([^=:]+)[=:](.*)$/.exec(l);
    if (!m) throw usageError(`--label ${l}: expected KEY=VALUE`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

/** The Kie `label=k:v` query values of a label set. */
const labelQuery = (labels: Record<string, string>): string[] => Object.entries(labels).map(([k, v]) => `${k}:${v}`);

function kvContext(s: Session, o: KvOptions): { base: string; headers: Record<string, string>; labels: Record<string, string> } {
  return {
    base: `/v1/${encodeURIComponent(o.scProject)}/kie/kv`,
    headers: serviceCombHeaders(s, { ...(o.domain ? { domain: o.domain } : {}), ...(o.scToken ? { token: o.scToken } : {}) }),
    labels: parseLabels(o.label),
  };
}

const kvOptions = (cmd: Command): Command => serviceCombOptions(cmd).option('-l, --label <KEY=VALUE>', 'a label (repeatable)', collect, [] as string[]);

/** The kv with exactly `key` and exactly the labels given, or undefined. */
async function findKv(s: Session, o: KvOptions, key: string): Promise<any | undefined> {
  const { base, headers, labels } = kvContext(s, o);
  const data: any[] = (await s.api.get(base, { headers, query: { key, label: labelQuery(labels), match: 'exact' } })).body?.data ?? [];
  return data.find((kv) => kv.key === key);
}

/** `openstage kv get|put|list|delete|watch`: the config center (Kie). */
export function kvCommands(program: Command, withSession: WithSession): void {
  const kv = program.command('kv').description('the ServiceComb config center (Kie): key-values with labels');
  const columns = [
    { header: 'KEY', get: (x: any) => x.key },
    { header: 'LABELS', get: (x: any) => Object.entries(x.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') },
    { header: 'STATUS', get: (x: any) => x.status },
    { header: 'REVISION', get: (x: any) => x.update_revision },
    { header: 'VALUE', get: (x: any) => (String(x.value).length > 60 ? `${String(x.value).slice(0, 57)}...` : x.value) },
  ];

  kvOptions(kv.command('list').description('kvs whose labels include the ones given').option('--key <key>', 'a key, beginWith(prefix) or wildcard(a*b)')).action(
    withSession(async (s, o: KvOptions & { key?: string }) => {
      const { base, headers, labels } = kvContext(s, o);
      const data: any[] = (await s.api.get(base, { headers, query: { key: o.key, label: labelQuery(labels) } })).body?.data ?? [];
      printList(s.format, data, columns);
    }),
  );

  kvOptions(kv.command('get <key>').description('the value of the kv with this key and exactly these labels')).action(
    withSession(async (s, key: string, o: KvOptions) => {
      const found = await findKv(s, o, key);
      if (!found) throw notFound(`kv ${key}`);
      print(s.format, found, () => String(found.value));
    }),
  );

  kvOptions(kv.command('put <key> <value>').description('create or update the kv with this key and exactly these labels'))
    .option('--type <value_type>', 'text, json, yaml, properties, ini or xml (on create)', 'text')
    .option('--status <status>', 'enabled or disabled', 'enabled')
    .action(
      withSession(async (s, key: string, value: string, o: KvOptions & { type: string; status: string }) => {
        const { base, headers, labels } = kvContext(s, o);
        const found = await findKv(s, o, key);
        const r = found
          ? (await s.api.request('PUT', `${base}/${found.id}`, { headers, body: { value, status: o.status } })).body
          : (await s.api.request('POST', base, { headers, body: { key, value, labels, value_type: o.type, status: o.status } })).body;
        print(s.format, r, () => `kv ${key} ${found ? 'updated' : 'created'} (revision ${r.update_revision})`);
      }),
    );

  kvOptions(kv.command('delete <key>').description('delete the kv with this key and exactly these labels')).action(
    withSession(async (s, key: string, o: KvOptions) => {
      const { base, headers } = kvContext(s, o);
      const found = await findKv(s, o, key);
      if (!found) throw notFound(`kv ${key}`);
      await s.api.request('DELETE', `${base}/${found.id}`, { headers });
      print(s.format, { id: found.id, deleted: true }, () => `kv ${key} deleted`);
    }),
  );

  kvOptions(kv.command('watch').description('print the kvs whose labels include the ones given, then again after each change (long polling), until interrupted'))
    .option('--wait <seconds>', 'how long each poll is held', '30')
    .option('--count <n>', 'stop after this many changes')
    .action(
      withSession(async (s, o: KvOptions & { wait: string; count?: string }) => {
        const { base, headers, labels } = kvContext(s, o);
        const waitSeconds = Number(o.wait);
        if (!Number.isInteger(waitSeconds) || waitSeconds < 1 || waitSeconds > 300) throw usageError('--wait must be 1 to 300 seconds');
        // Interrupting is the normal end of a watch (a poll may be held): exit 0 at once.
        process.once('SIGINT', () => process.exit(0));
        let revision: string | undefined;
        let changes = 0;
        const show = (data: any[], rev: string): void => {
          if (s.format === 'table') {
            process.stdout.write(`--- revision ${rev}\n`);
            printList('table', data, columns);
          } else process.stdout.write(`${JSON.stringify({ revision: Number(rev), data })}\n`);
        };
        for (;;) {
          // The first call answers at once; later ones are held until a change or the wait ends (304).
          const r = await s.api.get(base, { headers, accept: [304], timeoutMs: (waitSeconds + 15) * 1000, query: { label: labelQuery(labels), ...(revision !== undefined ? { revision, wait: `${waitSeconds}s` } : {}) } });
          const next = r.headers.get('x-kie-revision') ?? revision ?? '0';
          if (r.status === 200) {
            if (revision !== undefined) changes++;
            show(r.body?.data ?? [], next);
            if (o.count !== undefined && changes >= Number(o.count)) return;
          }
          if (r.status !== 200 && r.status !== 304) throw new CliError(`unexpected answer ${r.status}`, EXIT.failed);
          revision = next;
        }
      }),
    );
}
