// docs/cluster/nginx.conf in front of three servers on one PostgreSQL database (issue #16):
// registry, watch, Kie long poll and Git through the balancer. PostgreSQL only; needs nginx.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { gitCli, GitClient } from '../git/client.js';
import { CLUSTERED, eventually, startCluster } from '../helpers/cluster.js';
import { ADMIN, IAM_OVERRIDES, login } from '../helpers/iam-client.js';
import { freePort } from '../helpers/cli.js';
import { KieClient, revisionOf } from '../helpers/kie-client.js';
import { RegistryClient, uniq } from '../helpers/registry-client.js';

const NGINX_CONF = resolve(new URL('../../../docs/cluster/nginx.conf', import.meta.url).pathname);

function hasNginx(): boolean {
  try {
    execFileSync('nginx', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const skip = !CLUSTERED ? 'cluster tests run on PostgreSQL' : !hasNginx() && 'nginx is not installed (apt-get install nginx-light)';

describe('three servers behind docs/cluster/nginx.conf', { skip }, () => {
  it('serves the registry, watch, Kie long polls and Git through nginx', async (t) => {
    const { members } = await startCluster(t, 3, IAM_OVERRIDES);
    // The repository's configuration, with only the servers and the listening port replaced.
    const port = await freePort();
    const ports = members.map((m) => new URL(m.url).port);
    let conf = readFileSync(NGINX_CONF, 'utf8');
    const upstreams = [...conf.matchAll(/^\s*server 127\.0\.0\.1:(3010[123]) /gm)];
    assert.equal(upstreams.length, 3, 'the configuration names three servers');
    for (const [i, m] of upstreams.entries()) conf = conf.replace(`127.0.0.1:${m[1]} `, `127.0.0.1:${ports[i]} `);
    conf = conf.replace(/listen 30100;/, `listen 127.0.0.1:${port};`);
    const dir = mkdtempSync(join(tmpdir(), 'openstage-nginx-'));
    writeFileSync(join(dir, 'nginx.conf'), conf);
    const nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', `daemon off; pid ${join(dir, 'nginx.pid')}; error_log ${join(dir, 'error.log')};`], { stdio: 'ignore' });
    const exited = new Promise((r) => nginx.once('exit', r));
    t.after(async () => {
      nginx.kill('SIGQUIT');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    });
    const lb = `http://127.0.0.1:${port}`;
    await eventually(async () => {
      try {
        return (await fetch(`${lb}/health`)).status === 200;
      } catch {
        return false;
      }
    }, 20_000, 'nginx to listen');
    // Every server lists the three (each learns of the others at its next membership refresh).
    await eventually(async () => {
      const answers = await Promise.all([1, 2, 3].map(async () => ((await (await fetch(`${lb}/health`)).json()) as { instances: unknown[] }).instances.length));
      return answers.every((n) => n === 3);
    }, 10_000, '/health to list the three servers');

    // Registry: writes and reads spread by nginx, one revision, a watch through the upgrade.
    const reg = new RegistryClient(lb);
    const name = uniq('lbp');
    const sid = await reg.createService({ appId: 'lb', serviceName: name, version: '1.0.0' });
    const consumer = await reg.createService({ appId: 'lb', serviceName: uniq('lbc'), version: '1.0.0' });
    await reg.req('GET', `/instances?appId=lb&serviceName=${name}`, undefined, { 'x-consumerid': consumer });
    const events: any[] = [];
    const ws = new WebSocket(`${lb.replace('http', 'ws')}/v4/default/registry/microservices/${consumer}/watcher`);
    ws.on('message', (d) => events.push(JSON.parse(String(d))));
    await new Promise((r) => ws.once('open', r));
    t.after(() => ws.close());
    for (let i = 0; i < 9; i++) await reg.register(sid, { hostName: `lb${i}` });
    await eventually(() => events.length === 9, 10_000, 'nine watch events through nginx');
    const first = await reg.req('GET', `/instances?appId=lb&serviceName=${name}`);
    assert.equal(first.body.instances.length, 9);
    for (let i = 0; i < 6; i++) assert.equal((await reg.req('GET', `/instances?appId=lb&serviceName=${name}&rev=${first.headers.get('x-resource-revision')}`)).status, 304);

    // Kie: a poll held through nginx is woken by a write through nginx.
    const token = (await login(lb, ADMIN.name, ADMIN.password)).headers.get('x-subject-token')!;
    const kie = new KieClient(lb, uniq('lbk'));
    const kv = await kie.create({ key: 'k', value: 'v1', labels: { app: 'lb' } });
    const rev = revisionOf(await kie.list({ label: 'app:lb' }));
    const held = kie.list({ label: 'app:lb', revision: String(rev), wait: '60s' });
    await eventually(() => members.reduce((n, m) => n + m.server.kie.heldPolls(), 0) === 1, 10_000, 'the poll held');
    await kie.update(kv.id, { value: 'v2' });
    const woken = await held;
    assert.equal(woken.status, 200);
    assert.equal(woken.body.data[0]!.value, 'v2');

    // Git: a repository made through nginx, pushed through it and cloned again through it.
    const git = new GitClient(lb, token);
    const auth = uniq('lba');
    assert.equal((await git.call('POST', '/auths/local/password', { body: { name: auth, token: Buffer.from('alice:pw-alice-1').toString('base64') } })).status, 200);
    const created = await git.call('POST', '/repos/team/projects', { auth, body: { name: 'web' } });
    assert.equal(created.status, 200, created.text);
    assert.equal(new URL(created.body.clone_url).port, String(port), 'clone URLs name the balancer');
    assert.equal((await git.call('POST', '/repos/team/projects', { auth, body: { name: 'web' } })).status, 400, 'a repository name is never created twice');
    const work = mkdtempSync(join(tmpdir(), 'openstage-lb-git-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const url = new URL(created.body.clone_url);
    url.username = 'alice';
    url.password = 'pw-alice-1';
    await gitCli(['clone', '--quiet', url.toString(), 'a'], work);
    writeFileSync(join(work, 'a', 'README.md'), 'through nginx\n');
    await gitCli(['add', 'README.md'], join(work, 'a'));
    await gitCli(['commit', '--quiet', '-m', 'first'], join(work, 'a'));
    await gitCli(['push', '--quiet', 'origin', 'HEAD:main'], join(work, 'a'));
    for (let i = 0; i < 3; i++) {
      await gitCli(['clone', '--quiet', url.toString(), `b${i}`], work);
      assert.equal(readFileSync(join(work, `b${i}`, 'README.md'), 'utf8'), 'through nginx\n');
    }
  });
});
