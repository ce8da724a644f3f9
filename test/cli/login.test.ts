import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { buildProgram } from '../../src/cli/program.js';
import { printBootstrap } from '../../src/cli/serve.js';
import { DEFAULT_URL } from '../../src/cli/session.js';
import { ADMIN, IAM_OVERRIDES } from '../helpers/iam-client.js';
import { OpenstageCli } from '../helpers/openstage-cli.js';
import { startServer } from '../helpers/server.js';

// The CLI runs on the real clock (token expiry, AK/SK dates): so does the server here.
const REAL = { realClock: true };

// One database: npm test runs this file on SQLite only (scripts/run-tests.mjs). It tests
// the command-line client; the server side of every call runs on both databases in its
// own suites (test/iam, test/rbac).
describe('openstage login and contexts', () => {
  it('saves a password login as a 0600 context holding a token (never the password) and uses it', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES, REAL);
    const cli = new OpenstageCli(t);
    const login = await cli.run(['login', srv.url, '--user', ADMIN.name, '--password-stdin', '--name', 'local'], { input: `${ADMIN.password}\n` });
    assert.equal(login.code, 0, login.err);
    assert.match(login.err, new RegExp(`logged in to ${srv.url} as admin, project default \\(${ADMIN.projectId}\\)`));
    assert.equal(statSync(cli.configFile).mode & 0o777, 0o600);
    const text = readFileSync(cli.configFile, 'utf8');
    assert.ok(!text.includes(ADMIN.password), 'the password is not saved');
    const saved = parseYaml(text);
    assert.equal(saved.current, 'local');
    assert.equal(saved.contexts.local.project, ADMIN.projectId);
    assert.equal(saved.contexts.local.auth.type, 'token');

    const contexts = await cli.json(['context', 'list']);
    assert.deepEqual(contexts.map((c: any) => [c.name, c.current]), [['local', true]]);
    // The context reaches the server with its token.
    const created = await cli.json(['env', 'create', 'cli-env']);
    assert.equal(created.name, 'cli-env');
    const envs = await cli.json(['env', 'list']);
    assert.deepEqual(envs.map((e: any) => e.name), ['cli-env']);
    const shown = await cli.json(['env', 'show', 'cli-env']);
    assert.deepEqual(shown.resources.map((r: any) => `${r.type}:${r.id}`), ['ecs:local', 'cse:default']);

    // Config files (the group is made on the way) and runtime stacks.
    const file = join(dirname(cli.configFile), 'app.yaml');
    writeFileSync(file, 'app: ${CAS_APPLICATION_NAME}\nport: 8080\n');
    const config = await cli.json(['config', 'create', 'app-yaml', '--group', 'cli-group', '-f', file]);
    assert.equal((await cli.json(['config', 'show', 'app-yaml'])).content, 'app: ${CAS_APPLICATION_NAME}\nport: 8080\n');
    assert.deepEqual((await cli.json(['config', 'list'])).map((c: any) => c.id), [config.id]);
    assert.equal((await cli.run(['config', 'delete', 'app-yaml'])).code, 0);
    assert.equal((await cli.run(['config', 'show', 'app-yaml'])).code, 4);
    assert.ok((await cli.json(['stack', 'list'])).some((x: any) => x.name === 'Nodejs20' && x.type === 'Nodejs'));

    // logout revokes the token: the next call is refused (exit 3).
    assert.equal((await cli.run(['logout'])).code, 0);
    const refused = await cli.run(['env', 'list']);
    assert.equal(refused.code, 3, refused.err);
    assert.match(refused.err, /401 APIGW\.0301/);
  });

  it('logs in with an AK/SK pair (each request signed) and keeps several named contexts', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES, REAL);
    const open = await startServer(t, { auth: 'none' }, REAL);
    const cli = new OpenstageCli(t);
    assert.equal((await cli.run(['login', srv.url, '--access-key', ADMIN.ak, '--secret-key', ADMIN.sk, '--name', 'signed'])).code, 0);
    // A server run with --auth none needs no credentials.
    const anon = await cli.run(['login', open.url, '--name', 'open']);
    assert.equal(anon.code, 0, anon.err);
    assert.match(anon.err, /without credentials/);
    assert.equal((await cli.json(['app', 'create', 'in-open'])).name, 'in-open');
    assert.equal((await cli.run(['context', 'use', 'signed'])).code, 0);
    assert.equal((await cli.json(['app', 'create', 'in-signed'])).name, 'in-signed');
    assert.deepEqual((await cli.json(['app', 'list'])).map((a: any) => a.name), ['in-signed']);
    assert.deepEqual((await cli.json(['app', 'list', '--context', 'open'])).map((a: any) => a.name), ['in-open']);
    // --url elsewhere than the context's server never sends the context's credentials.
    const elsewhere = await cli.run(['app', 'list', '--url', srv.url.replace('127.0.0.1', 'localhost')]);
    assert.equal(elsewhere.code, 3, elsewhere.err);
    assert.equal((await cli.run(['context', 'delete', 'open'])).code, 0);
    assert.deepEqual((await cli.json(['context', 'list'])).map((c: any) => c.name), ['signed']);
  });

  it('exits with the documented codes: 2 usage, 3 refused, 4 not found, 5 unreachable', async (t) => {
    const srv = await startServer(t, IAM_OVERRIDES, REAL);
    const cli = new OpenstageCli(t);
    const cases: [string, string[], number, RegExp, { input?: string }?][] = [
      ['an unknown command', ['frobnicate'], 2, /unknown command/],
      ['a bad --output', ['env', 'list', '-o', 'xml'], 2, /xml/],
      ['a wrong password', ['login', srv.url, '--user', 'admin', '--password-stdin'], 3, /401/, { input: 'nope\n' }],
      ['no credentials for an IAM server', ['login', srv.url], 3, /wants credentials/],
      ['an unreachable server', ['env', 'list', '--url', 'http://127.0.0.1:9'], 5, /cannot reach/],
    ];
    for (const [what, args, code, err, options] of cases) {
      const r = await cli.run(args, options ?? {});
      assert.equal(r.code, code, `${what}: ${r.err}`);
      assert.match(r.err, err, what);
    }
    assert.equal((await cli.run(['login', srv.url, '--user', 'admin', '--password-stdin'], { input: ADMIN.password })).code, 0);
    const missing = await cli.run(['app', 'show', 'no-such-app']);
    assert.equal(missing.code, 4, missing.err);
    assert.match(missing.err, /application no-such-app not found/);
    const missingOnServer = await cli.run(['job', 'show', 'JOB00000000-0000-0000-0000-000000000000']);
    assert.equal(missingOnServer.code, 4, missingOnServer.err);
  });

  it('answers --help on every command, serve included', async (t) => {
    const cli = new OpenstageCli(t);
    for (const args of [['--help'], ['serve', '--help'], ['deploy', '--help'], ['kv', 'watch', '--help']]) {
      const r = await cli.run(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
      assert.match(r.out, /^Usage: openstage /, args.join(' '));
    }
    assert.match((await cli.run(['serve', '--help'])).out, /--data-dir <dir>/);
    // Every command of the tree has a description and renders its help.
    const walk = (cmd: ReturnType<typeof buildProgram>, path: string[]): void => {
      for (const sub of cmd.commands) {
        const name = [...path, sub.name()].join(' ');
        assert.ok(sub.description(), `${name} has a description`);
        assert.match(sub.helpInformation(), /Usage: /, name);
        walk(sub, [...path, sub.name()]);
      }
    };
    walk(buildProgram(), []);
  });

  it("names the server's URL in the first start's login hint unless it is the CLI's default", (t) => {
    const report = { adminName: 'admin', adminPassword: 'pw', projectId: 'p1', projectName: 'default', accessKey: 'AK', secretKey: 'SK' } as Parameters<typeof printBootstrap>[0];
    let out = '';
    t.mock.method(process.stdout, 'write', (chunk: string) => ((out += chunk), true));
    printBootstrap(report, 'http://127.0.0.1:31733');
    printBootstrap(report, DEFAULT_URL);
    t.mock.restoreAll();
    const hints = out.split('\n').filter((l) => l.includes('log the CLI in with'));
    assert.deepEqual(
      hints.map((l) => l.trim().split('   ')[0]),
      ['log the CLI in with: openstage login http://127.0.0.1:31733 --user admin', 'log the CLI in with: openstage login --user admin'],
    );
  });
});
