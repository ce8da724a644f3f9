import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { answer, EXAMPLES, FAST_DEPLOY } from '../helpers/component.js';
import { ADMIN, IAM_OVERRIDES, login } from '../helpers/iam-client.js';
import { parse as parseYaml } from 'yaml';
import { OpenstageCli, waitFor } from '../helpers/openstage-cli.js';
import { viaRoute } from '../helpers/route.js';
import { startServer } from '../helpers/server.js';

/** GET / of a URL the CLI printed. */
async function hello(url: string): Promise<any> {
  return (await fetch(`${url}/`)).json();
}

// One database: npm test runs this file on SQLite only (scripts/run-tests.mjs). It tests
// the command-line client; the server side of every call runs on both databases in its
// own suites (test/cas).
describe('openstage deploy and the component commands', () => {
  it('deploys a directory to a URL, redeploys, follows logs, scales, rolls back, stops and starts', async (t) => {
    const srv = await startServer(t, { ...IAM_OVERRIDES, ...FAST_DEPLOY }, { realClock: true });
    const cli = new OpenstageCli(t);
    assert.equal((await cli.run(['login', srv.url, '--user', ADMIN.name, '--password-stdin'], { input: ADMIN.password })).code, 0);
    const dir = mkdtempSync(join(tmpdir(), 'openstage-deploy-src-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    cpSync(join(EXAMPLES, 'node-hello'), dir, { recursive: true });
    // Left out of the push: node_modules (a default) and what .openstageignore names.
    writeFileSync(join(dir, '.openstageignore'), 'secret.txt\n');
    writeFileSync(join(dir, 'secret.txt'), 'not for the server\n');
    mkdirSync(join(dir, 'node_modules', 'left-out'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'left-out', 'index.js'), '');

    // One command: environment, application, repository, push, component, job, URL.
    const first = await cli.run(['deploy', dir, '--name', 'web', '--app', 'shop', '--health', '/health', '-o', 'json'], { timeoutMs: 180_000 });
    assert.equal(first.code, 0, first.err);
    const deployed = JSON.parse(first.out);
    assert.equal(deployed.version, '1.0.0');
    assert.equal(deployed.status, 'RUNNING');
    assert.equal(deployed.urls.length, 1);
    // Progress of each task was shown while waiting.
    for (const task of ['fetch source', 'build', 'roll out']) assert.match(first.err, new RegExp(`\\] ${task}.*: SUCCEEDED$`, 'm'), first.err);
    assert.match(first.err, /environment dev created/);
    const body = await hello(deployed.urls[0]);
    assert.equal(body.service, 'web');
    assert.equal(body.version, '1.0.0');
    // The stable route, printed by deploy, answers on the server's own port.
    const port = Number(new URL(srv.url).port);
    assert.deepEqual(deployed.routes, [`http://web.shop.localhost:${port}/`]);
    assert.equal((await viaRoute(port, `web.shop.localhost:${port}`)).body.version, '1.0.0');
    const text = await cli.run(['status', 'web']);
    assert.match(text.out, new RegExp(`route:\\s+http://web\\.shop\\.localhost:${port}/`));

    // The pushed tree, read through the Git API with the authorization the CLI made and saved.
    const gitAuth = parseYaml(readFileSync(cli.configFile, 'utf8')).contexts[new URL(srv.url).host].git.auth;
    const token = (await login(srv.url, ADMIN.name, ADMIN.password)).headers.get('x-subject-token')!;
    const tree = await (await fetch(`${srv.url}/v1/${ADMIN.projectId}/git/files/shop/web/trees?ref=v1.0.0`, { headers: { 'x-auth-token': token, 'x-repo-auth': gitAuth } })).json();
    assert.deepEqual(tree.paths.sort(), ['.openstageignore', 'package-lock.json', 'package.json', 'server.js']);

    // A second deploy upgrades the same component to the next version.
    writeFileSync(join(dir, 'NOTES.md'), 'second\n');
    const second = await cli.json(['deploy', dir, '--name', 'web', '--app', 'shop']);
    assert.equal(second.version, '1.0.1');
    assert.equal(second.component_id, deployed.component_id);
    assert.equal((await hello(second.urls[0])).version, '1.0.1');

    // logs -f prints the replica's lines as they come, until interrupted.
    const follow = cli.start(t, ['logs', 'web', '-f', '--interval', '300']);
    await waitFor('the first log lines', () => /web 1\.0\.1 listening on/.test(follow.output()));
    follow.child.kill('SIGINT');
    assert.equal(await follow.exited, 0);

    const scaled = await cli.json(['scale', 'web', '2']);
    assert.equal(scaled.status.available_replica, 2);
    const status = await cli.json(['status']);
    assert.equal(status.length, 1);
    assert.equal(status[0].status.replica, 2);

    // rollback without a version: the one before the current.
    const back = await cli.json(['rollback', 'web']);
    assert.equal(back.version, '1.0.0');
    const shown = await cli.json(['status', 'web']);
    assert.equal(shown.status.instances.length, 2);
    for (const i of shown.status.instances) assert.equal((await answer(i.port)).version, '1.0.0');
    assert.equal((await viaRoute(port, `web.shop.localhost:${port}`)).body.version, '1.0.0', 'the route followed the rollback');

    const stopped = await cli.json(['stop', 'web']);
    assert.equal(stopped.status.component_status, 'STOPPED');
    const started = await cli.json(['start', 'web']);
    assert.equal(started.status.available_replica, 2);

    const jobs = await cli.json(['job', 'list', '--component', 'web']);
    assert.deepEqual(jobs.map((j: any) => j.deploy_type), ['start', 'stop', 'rollback', 'scale', 'upgrade', 'deploy']);
    assert.ok(jobs.every((j: any) => j.status === 'SUCCEEDED'));

    // A failing build exits 1 with the failed task named.
    writeFileSync(join(dir, 'package.json'), '{ not json');
    const broken = await cli.run(['deploy', dir, '--name', 'web', '--app', 'shop'], { timeoutMs: 180_000 });
    assert.equal(broken.code, 1, broken.err);
    assert.match(broken.err, /FAILED in build/);
  });
});
