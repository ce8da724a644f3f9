import { parseArgs } from 'node:util';
import { canonicalRequest, formatSdkDate, sign, stringToSign } from './iam/signature.js';

/**
 * `openstage user|project|key …`: administration commands. They are HTTP clients of a
 * running server (its IAM admin routes), signing each request with the admin's AK/SK, so
 * the server's in-memory view stays current. Credentials: --access-key/--secret-key or
 * OPENSTAGE_ACCESS_KEY/OPENSTAGE_SECRET_KEY; server: --url or OPENSTAGE_URL
 * (default http://127.0.0.1:30100).
 */
export const ADMIN_USAGE = `usage:
  openstage user create --name NAME --password PASSWORD
  openstage user list
  openstage project create --name NAME
  openstage project list
  openstage project add-user --project PROJECT_ID --user NAME_OR_ID
  openstage key create [--user NAME_OR_ID]      (prints the secret key once)
  openstage key list [--user NAME_OR_ID]
  openstage key delete --key AK
common options: --url URL --access-key AK --secret-key SK`;

interface Target {
  url: string;
  ak: string;
  sk: string;
}

async function signedFetch(target: Target, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const url = new URL(path, target.url);
  const text = body === undefined ? '' : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json', host: url.host, 'x-sdk-date': formatSdkDate(Date.now()) };
  const signed = Object.keys(headers).sort();
  const signature = sign(target.sk, stringToSign(canonicalRequest({ method, url: url.pathname + url.search, headers, body: Buffer.from(text) }, signed), headers['x-sdk-date']!));
  headers.authorization = `SDK-HMAC-SHA256 Access=${target.ak}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
  delete headers.host;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: text || undefined });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`cannot reach ${target.url} (${cause?.code ?? cause?.message ?? (err as Error).message}); set --url or OPENSTAGE_URL`);
  }
  const raw = await res.text();
  let json: any;
  try {
    json = raw ? JSON.parse(raw) : undefined;
  } catch {
    json = raw;
  }
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${json?.error_msg ?? json?.error?.message ?? raw}`);
  return { status: res.status, json };
}

/** Runs an admin command; returns the exit code. Output goes to stdout, errors to stderr. */
export async function runAdminCommand(args: string[], env: Record<string, string | undefined>): Promise<number> {
  const [noun, verb, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      url: { type: 'string' },
      'access-key': { type: 'string' },
      'secret-key': { type: 'string' },
      name: { type: 'string' },
      password: { type: 'string' },
      project: { type: 'string' },
      user: { type: 'string' },
      key: { type: 'string' },
    },
    strict: true,
  });
  const target: Target = {
    url: values.url ?? env.OPENSTAGE_URL ?? 'http://127.0.0.1:30100',
    ak: values['access-key'] ?? env.OPENSTAGE_ACCESS_KEY ?? '',
    sk: values['secret-key'] ?? env.OPENSTAGE_SECRET_KEY ?? '',
  };
  if (!target.ak || !target.sk) throw new Error('the admin access key is needed: --access-key/--secret-key or OPENSTAGE_ACCESS_KEY/OPENSTAGE_SECRET_KEY');
  const need = (v: string | undefined, flag: string): string => {
    if (!v) throw new Error(`--${flag} is required`);
    return v;
  };
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const key = `${noun} ${verb}`;
  switch (key) {
    case 'user create': {
      const { json } = await signedFetch(target, 'POST', '/v3.0/OS-USER/users', { user: { name: need(values.name, 'name'), password: need(values.password, 'password') } });
      out(`user ${json.user.name} created, id ${json.user.id}`);
      return 0;
    }
    case 'user list': {
      const { json } = await signedFetch(target, 'GET', '/v3/users');
      for (const u of json.users) out(`${u.id}\t${u.name}\tprojects: ${u.project_ids.join(',') || '-'}`);
      return 0;
    }
    case 'project create': {
      const { json } = await signedFetch(target, 'POST', '/v3/projects', { project: { name: need(values.name, 'name') } });
      out(`project ${json.project.name} created, id ${json.project.id}`);
      return 0;
    }
    case 'project list': {
      const { json } = await signedFetch(target, 'GET', '/v3/projects');
      for (const p of json.projects) out(`${p.id}\t${p.name}`);
      return 0;
    }
    case 'project add-user': {
      await signedFetch(target, 'PUT', `/v3/projects/${encodeURIComponent(need(values.project, 'project'))}/users/${encodeURIComponent(need(values.user, 'user'))}/roles/member`);
      out(`user ${values.user} added to project ${values.project}`);
      return 0;
    }
    case 'key create': {
      const { json } = await signedFetch(target, 'POST', '/v3.0/OS-CREDENTIAL/credentials', { credential: { user_id: values.user ?? 'admin' } });
      out(`access key (AK): ${json.credential.access}`);
      out(`secret key (SK): ${json.credential.secret}   (shown once)`);
      return 0;
    }
    case 'key list': {
      const { json } = await signedFetch(target, 'GET', `/v3.0/OS-CREDENTIAL/credentials${values.user ? `?user_id=${encodeURIComponent(values.user)}` : ''}`);
      for (const k of json.credentials) out(`${k.access}\t${k.user_id}\t${k.status}\t${k.create_time}`);
      return 0;
    }
    case 'key delete': {
      await signedFetch(target, 'DELETE', `/v3.0/OS-CREDENTIAL/credentials/${encodeURIComponent(need(values.key, 'key'))}`);
      out('access key deleted');
      return 0;
    }
    default:
      process.stderr.write(`${ADMIN_USAGE}\n`);
      return 2;
  }
}
