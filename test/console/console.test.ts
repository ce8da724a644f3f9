import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { launchBrowser, openPage, screenshot } from '../helpers/browser.js';
import { CasClient, uniqName, type CasServer } from '../helpers/cas-client.js';
import { eventually, EXAMPLES, FAST_DEPLOY, waitJob } from '../helpers/component.js';
import { ADMIN, IAM_OVERRIDES, login } from '../helpers/iam-client.js';
import { call } from '../helpers/registry-client.js';
import { startServer } from '../helpers/server.js';
import { gitCli } from '../git/client.js';

// The web console (issue #19) in a real browser: Debian's Chromium driven by playwright-core,
// against the real server. Every step checks what the page shows against the API, and writes
// the screenshots of docs/console/.

const textbox = (scope: Page | Locator, name: string) => scope.getByRole('textbox', { name, exact: true });

/** Picks `option` in the Mantine Select labelled `label`. */
async function choose(page: Page, scope: Page | Locator, label: string, option: string | RegExp): Promise<void> {
  await scope.getByRole('combobox', { name: label, exact: true }).or(textbox(scope, label)).first().click();
  await page.getByRole('option', { name: option }).first().click();
}

/** Opens the dialog of the button `label`; returns the dialog. */
async function dialog(page: Page, label: string | RegExp): Promise<Locator> {
  await page.getByRole('button', { name: label }).first().click();
  // A dialog that just closed may still be fading out: the new one is the last.
  const d = page.getByRole('dialog').last();
  await d.waitFor();
  return d;
}

/** Clicks the confirm button of an open confirmation dialog and waits for it to close. */
async function confirm(page: Page): Promise<void> {
  await page.getByTestId('confirm').click();
  await page.getByTestId('confirm').waitFor({ state: 'detached', timeout: 30_000 });
}

/** Replaces the text of the (CodeMirror) editor inside `scope`. */
async function typeInEditor(page: Page, scope: Page | Locator, text: string): Promise<void> {
  await scope.locator('.cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

const title = (page: Page) => page.getByTestId('page-title');

function workDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'openstage-console-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('web console', () => {
  it('signs in, deploys a component from a hosted repository, scales, reads logs, edits config, rolls back, browses registry and kv, signs out', { timeout: 900_000 }, async (t) => {
    const s = await startServer(t, { ...IAM_OVERRIDES, ...FAST_DEPLOY }, { realClock: true });
    const apiToken = (await login(s.url, ADMIN.name, ADMIN.password)).headers.get('x-subject-token')!;
    const cas = new CasClient(s.url, apiToken);
    const p = ADMIN.projectId;
    const browser = await launchBrowser(t);
    const { page, errors } = await openPage(browser);

    // Sign-in: a wrong password shows IAM's message; the right one opens the console.
    await page.goto(`${s.url}/console/`);
    await textbox(page, 'User name').fill('admin');
    await page.locator('input[type="password"]').fill('wrong-password');
    await page.getByTestId('sign-in').click();
    await page.getByTestId('error').waitFor();
    assert.match(await page.getByTestId('error').innerText(), /IAM\.0101/);
    await screenshot(page, 'sign-in');
    await page.locator('input[type="password"]').fill(ADMIN.password);
    await page.getByTestId('sign-in').click();
    await title(page).filter({ hasText: 'Overview' }).waitFor();
    assert.equal(await page.getByTestId('user').innerText(), 'admin');
    assert.equal(await page.getByTestId('project-select').inputValue(), 'default');

    // An empty project: zero everywhere, no error.
    await page.getByTestId('tile-environments').getByTestId('count').filter({ hasText: /^0$/ }).waitFor();
    await page.getByTestId('tile-components').getByTestId('count').filter({ hasText: /^0$/ }).waitFor();
    await page.getByTestId('components-empty').waitFor();
    await page.getByTestId('jobs-empty').waitFor();
    await screenshot(page, 'overview-empty');

    // Environments: the form validates before sending; the API's refusal is shown.
    const envName = uniqName('env');
    await page.locator('nav').getByRole('link', { name: 'Environments', exact: true }).click();
    await page.getByTestId('environments-empty').waitFor();
    let d = await dialog(page, 'Create environment');
    await d.getByTestId('submit').click();
    await d.getByText('2–64 characters').waitFor();
    assert.equal((await cas.get('/environments')).body.count, 0, 'nothing was sent');
    await textbox(d, 'Name').fill(envName);
    await textbox(d, 'Description').fill('made in the console');
    await d.getByTestId('submit').click();
    await title(page).filter({ hasText: `Environment ${envName}` }).waitFor();
    const env = (await cas.get(`/environments?name=${envName}`)).body.environments[0];
    assert.equal(env.description, 'made in the console');
    // Bind this server's engine (cse/default) and see it listed as the API lists it.
    d = await dialog(page, 'Bind resource');
    await d.getByTestId('submit').click();
    await page.getByTestId('resources').getByText('default').first().waitFor();
    assert.deepEqual((await cas.get(`/environments/${env.id}/resources`)).body.resources.map((r: any) => `${r.type}/${r.id}`), ['cse/default']);
    await screenshot(page, 'environment');
    // A second environment with the same name is refused by the API, and the page says why.
    await page.locator('nav').getByRole('link', { name: 'Environments', exact: true }).click();
    d = await dialog(page, 'Create environment');
    await textbox(d, 'Name').fill(envName);
    await d.getByTestId('submit').click();
    await d.getByTestId('error').waitFor();
    assert.match(await d.getByTestId('error').innerText(), /SVCSTG\.00100449/);
    await page.keyboard.press('Escape');
    await page.getByTestId('environments').getByText(envName).waitFor();
    await screenshot(page, 'environments');

    // Git: an authorization of OpenStage's own host, a hosted repository, a push of node-hello.
    const authName = uniqName('auth');
    await page.locator('nav').getByRole('link', { name: 'Git repositories', exact: true }).click();
    await page.getByTestId('auths-empty').waitFor();
    d = await dialog(page, 'Add authorization');
    await textbox(d, 'Name').fill(authName);
    await textbox(d, 'User').fill('builder');
    await d.locator('input[type="password"]').fill('Builder-pass-1');
    await d.getByTestId('submit').click();
    await page.getByTestId('auths').getByText(authName).waitFor();
    d = await dialog(page, 'Create repository');
    await textbox(d, 'Namespace').fill('shop');
    await textbox(d, 'Name').fill('web');
    await d.getByTestId('submit').click();
    await page.getByTestId('repos').getByRole('link', { name: 'shop/web' }).waitFor();
    const repos = await call(s.url, 'GET', `/v1/${p}/git/repos/shop/projects`, { headers: { 'x-auth-token': apiToken, 'x-repo-auth': authName } });
    const cloneUrl: string = repos.body.projects[0].clone_url;
    assert.ok(await page.getByTestId('repos').getByText(cloneUrl).isVisible());
    const withCreds = new URL(cloneUrl);
    withCreds.username = 'builder';
    withCreds.password = 'Builder-pass-1';
    const dir = join(workDir(t), 'web');
    cpSync(join(EXAMPLES, 'node-hello'), dir, { recursive: true });
    await gitCli(['init', '--quiet', '-b', 'main'], dir);
    await gitCli(['add', '.'], dir);
    await gitCli(['-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '--quiet', '-m', 'node-hello'], dir);
    await gitCli(['push', '--quiet', withCreds.toString(), 'main'], dir);
    await screenshot(page, 'git');
    await page.getByRole('link', { name: 'shop/web' }).click();
    await page.getByTestId('tree').getByText('server.js').click();
    await page.getByTestId('file-content').getByText('PAAS_CSE_SC_ENDPOINT').first().waitFor();
    assert.equal(await page.getByTestId('clone-url').innerText(), cloneUrl);
    await screenshot(page, 'git-repository');

    // Configuration: a group and a YAML file, typed into the editor.
    await page.locator('nav').getByRole('link', { name: 'Configuration', exact: true }).click();
    d = await dialog(page, 'Create group');
    await textbox(d, 'Name').fill('shop-config');
    await d.getByTestId('submit').click();
    await page.getByTestId('config-groups').getByText('shop-config').waitFor();
    d = await dialog(page, 'Create file');
    await textbox(d, 'Name').fill('app-yaml');
    await typeInEditor(page, d, 'greeting: hello\n');
    await d.getByTestId('submit').click();
    await title(page).filter({ hasText: 'Config file app-yaml' }).waitFor();
    const config = (await cas.get('/configs?name=app-yaml')).body.configs[0];
    assert.equal(config.content, 'greeting: hello\n');

    // Application and a component from the hosted repository, with the config file mounted.
    const appName = uniqName('app');
    await page.locator('nav').getByRole('link', { name: 'Applications', exact: true }).click();
    await page.getByTestId('applications-empty').waitFor();
    d = await dialog(page, 'Create application');
    await textbox(d, 'Name').fill(appName);
    await d.getByTestId('submit').click();
    await title(page).filter({ hasText: `Application ${appName}` }).waitFor();
    const appId = (await cas.get('/applications')).body.applications.find((a: any) => a.name === appName).id;
    const compName = uniqName('web');
    d = await dialog(page, 'Create component');
    await d.getByTestId('submit').click();
    await d.getByText('Choose an environment').waitFor();
    await textbox(d, 'Name').fill(compName);
    await choose(page, d, 'Environment', envName);
    await choose(page, d, 'Git authorization', new RegExp(authName));
    await choose(page, d, 'Repository', cloneUrl);
    assert.equal(await textbox(d, 'Clone URL').inputValue(), cloneUrl);
    await textbox(d, 'Config file mounts').fill(`${config.id}:/config/app.yaml`);
    await screenshot(page, 'component-create');
    await d.getByTestId('submit').click();
    await title(page).filter({ hasText: `Component ${compName}` }).waitFor();
    const comps = (await cas.get(`/applications/${appId}/components`)).body.components;
    const compPath = `/applications/${appId}/components/${comps[0].id}`;
    // The job's tasks show up while it runs, then the component is RUNNING.
    await page.getByTestId('job-tasks').getByText(/SUCCEEDED|RUNNING/).first().waitFor({ timeout: 60_000 });
    await title(page).getByText('RUNNING').waitFor({ timeout: 180_000 });
    const running = (await cas.get(compPath)).body;
    assert.equal(running.status.component_status, 'RUNNING');
    assert.equal(await page.getByTestId('replicas').innerText(), `${running.status.available_replica}/${running.status.replica}`);
    const job = (await cas.get(`/jobs/${running.status.last_job_id}`)).body;
    assert.equal(job.job.execution_status, 'SUCCEEDED');
    for (const task of job.tasks) await page.getByTestId('job-tasks').getByText(task.task_name, { exact: true }).waitFor();
    await screenshot(page, 'component-running');

    // Scale to 2: the confirmation form, then two ready replicas, as the API says.
    d = await dialog(page, 'Scale');
    await textbox(d, 'Replicas').fill('2');
    await d.getByTestId('submit').click();
    await page.getByTestId('replicas').getByText('2/2').waitFor({ timeout: 120_000 });
    const scaled = (await cas.get(compPath)).body;
    assert.equal(scaled.status.instances.length, 2);
    for (const i of scaled.status.instances) await page.getByTestId('instances').getByText(i.instance_id).waitFor();

    // Logs: each replica's lines, as GET .../logs gives them.
    await page.getByTestId('refresh-logs').click();
    await page.getByTestId('log').nth(1).waitFor();
    const logs = (await cas.get(`${compPath}/logs`)).body.logs;
    assert.equal(logs.length, 2);
    const shown = await page.getByTestId('log').allInnerTexts();
    for (const l of logs) assert.ok(shown.some((x) => x.includes(l.instance_id) && x.includes(l.lines.find((line: string) => line.includes('listening on')))), `log of ${l.instance_id}`);
    await screenshot(page, 'component-scaled-logs');

    // Upgrade to 1.0.1 (the same source), so that there is a version to roll back to.
    d = await dialog(page, 'Upgrade');
    await textbox(d, 'New version').fill('1.0.1');
    await d.getByTestId('submit').click();
    await page.getByTestId('version').getByText('1.0.1').waitFor();
    await title(page).getByText('RUNNING').waitFor({ timeout: 180_000 });
    await waitJob({ cas } as CasServer, (await cas.get(compPath)).body.status.last_job_id, 180_000);
    await page.getByTestId('records').getByText('1.0.1').waitFor();
    await page.getByTestId('replicas').getByText('2/2').waitFor({ timeout: 30_000 });

    // Edit the mounted config file: a new record, and a diff between two records.
    await page.goto(`${s.url}/console/configs/${config.id}`);
    await title(page).filter({ hasText: 'Config file app-yaml' }).waitFor();
    const recordsBefore = (await cas.get(`/configs/${config.id}/histories`)).body.count;
    await typeInEditor(page, page, 'greeting: bonjour\n');
    await page.getByTestId('save').click();
    await page.getByTestId('config-version').getByText(String(Number(config.version) + 1), { exact: true }).waitFor();
    const records = (await cas.get(`/configs/${config.id}/histories`)).body;
    assert.equal(records.count, recordsBefore + 1);
    assert.equal((await cas.get(`/configs/${config.id}`)).body.content, 'greeting: bonjour\n');
    await page.getByTestId('config-records').locator('tbody tr').nth(records.count - 1).waitFor();
    await choose(page, page, 'Left', `version ${records.histories.at(-1).version}`);
    await choose(page, page, 'Right', 'current');
    await page.getByTestId('diff').getByText('+ greeting: bonjour').waitFor();
    await screenshot(page, 'config-file');
    await page.locator('nav').getByRole('link', { name: 'Configuration', exact: true }).click();
    await page.getByTestId('configs').getByText('app-yaml').waitFor();
    await screenshot(page, 'configuration');

    // Roll back to 1.0.0 from the deploy records.
    await page.goto(`${s.url}/console${compPath}`);
    await page.getByTestId('rollback-1.0.0').first().click();
    await confirm(page);
    await page.getByTestId('version').getByText('1.0.0', { exact: true }).waitFor({ timeout: 60_000 });
    await title(page).getByText('RUNNING').waitFor({ timeout: 180_000 });
    const rolled = (await cas.get(compPath)).body;
    assert.equal(rolled.version, '1.0.0');
    assert.equal(rolled.status.component_status, 'RUNNING');
    await screenshot(page, 'component-rolled-back');

    // The registry: the component's replicas registered themselves (node-hello does). A
    // gateway that finds the component becomes its consumer: an arrow of the dependency graph.
    const sc = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => call(s.url, method, `/v4/default/registry${path}`, { body, headers });
    const gateway = (await sc('POST', '/microservices', { service: { appId: appName, serviceName: 'gateway', version: '1.0.0' } })).body.serviceId;
    assert.equal((await sc('GET', `/instances?appId=${appName}&serviceName=${compName}&version=latest`, undefined, { 'X-ConsumerId': gateway })).status, 200);
    const providers: any[] = await eventually('the dependency', async () => {
      const list = (await sc('GET', `/microservices/${gateway}/providers`)).body.providers ?? [];
      return list.length > 0 ? list : undefined;
    });
    await page.locator('nav').getByRole('link', { name: 'Microservices', exact: true }).click();
    await page.getByTestId('services').getByText(compName).first().waitFor({ timeout: 60_000 });
    await page.getByTestId('dependency-graph').locator('line').first().waitFor({ state: 'attached' });
    assert.ok(providers.every((x) => x.serviceName === compName));
    assert.equal(await page.getByTestId('dependency-graph').locator('line').count(), providers.length);
    await screenshot(page, 'microservices');
    const services = (await call(s.url, 'GET', '/v4/default/registry/microservices')).body.services;
    const service = services.find((x: any) => x.serviceName === compName && x.version === '1.0.0');
    await page.goto(`${s.url}/console/microservices/${service.serviceId}`);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="instances"] tbody tr').length === n, 2, { timeout: 60_000 });
    const instances = (await call(s.url, 'GET', `/v4/default/registry/microservices/${service.serviceId}/instances`)).body.instances;
    for (const i of instances) await page.getByTestId('instances').getByText(i.instanceId).waitFor();
    assert.match(await page.getByTestId('heartbeat').first().innerText(), /^\d+ (s|min) ago$/);
    await screenshot(page, 'microservice');

    // The config center: a key with labels, an edit, then the first value restored as a new revision.
    await page.locator('nav').getByRole('link', { name: 'Config center', exact: true }).click();
    await page.getByTestId('kvs-empty').waitFor();
    d = await dialog(page, 'Create key');
    await textbox(d, 'Key').fill('greeting.message');
    await textbox(d, 'Labels').fill(`app=${appName}\nservice=${compName}`);
    await typeInEditor(page, d, 'Hello');
    await d.getByTestId('submit').click();
    await title(page).filter({ hasText: 'Key greeting.message' }).waitFor();
    await typeInEditor(page, page, 'Bonjour');
    await page.getByTestId('save').click();
    await page.getByTestId('kv-history').locator('tbody tr').nth(1).waitFor();
    const kvId = page.url().split('/').pop()!;
    const first = (await call(s.url, 'GET', `/v1/default/kie/revision/${kvId}`)).body.data.at(-1);
    await page.getByTestId(`restore-${first.update_revision}`).click();
    await confirm(page);
    await page.getByTestId('kv-history').locator('tbody tr').nth(2).waitFor();
    const kv = (await call(s.url, 'GET', `/v1/default/kie/kv/${kvId}`)).body;
    assert.equal(kv.value, 'Hello');
    assert.equal(await page.getByTestId('kv-revision').innerText(), String(kv.update_revision));
    assert.equal((await call(s.url, 'GET', `/v1/default/kie/revision/${kvId}`)).body.total, 3);
    await screenshot(page, 'kv-history');
    await page.locator('nav').getByRole('link', { name: 'Config center', exact: true }).click();
    await textbox(page, 'Labels app:shop env:prod').fill(`app:${appName}`);
    await page.keyboard.press('Enter');
    await page.getByTestId('kvs').getByText('greeting.message').waitFor();
    await screenshot(page, 'config-center');

    // The other pages, as they look with data.
    for (const [link, name, testId] of [
      ['Overview', 'overview', 'components'],
      ['Components', 'components', 'components'],
      ['Runtime stacks', 'runtime-stacks', 'stacks'],
      ['Engines', 'engines', 'engines'],
    ] as const) {
      await page.locator('nav').getByRole('link', { name: link, exact: true }).click();
      await page.getByTestId(testId).or(page.getByTestId(`${testId}-empty`)).first().waitFor();
      await screenshot(page, name);
    }
    await page.locator('nav').getByRole('link', { name: 'Add-ons', exact: true }).click();
    await page.getByTestId('addons-empty').waitFor();
    await screenshot(page, 'addons');
    await page.locator('nav').getByRole('link', { name: 'Applications', exact: true }).click();
    await page.getByRole('link', { name: appName }).click();
    await page.getByTestId('components').getByText(compName).waitFor();
    await screenshot(page, 'application');

    // A narrow window: the navigation folds into the menu button.
    const narrow = await openPage(browser, 390, 844);
    await narrow.page.goto(`${s.url}/console/`);
    await textbox(narrow.page, 'User name').fill('admin');
    await narrow.page.locator('input[type="password"]').fill(ADMIN.password);
    await narrow.page.getByTestId('sign-in').click();
    await narrow.page.getByRole('button', { name: 'menu' }).click();
    await narrow.page.locator('nav').getByRole('link', { name: 'Components', exact: true }).click();
    await narrow.page.getByTestId('components').getByText(compName).waitFor();
    await screenshot(narrow.page, 'narrow-components');
    await narrow.page.goto(`${s.url}/console${compPath}`);
    await narrow.page.getByTestId('replicas').getByText('2/2').waitFor({ timeout: 60_000 });
    await screenshot(narrow.page, 'narrow-component');

    // Sign-out revokes the token: the sign-in page says so.
    await page.getByTestId('sign-out').click();
    await page.getByTestId('session-message').getByText('You have signed out.').waitFor();
    assert.deepEqual(errors, []);
    assert.deepEqual(narrow.errors, []);
  });

  it('switches projects, and tells the user when the token expires', { timeout: 120_000 }, async (t) => {
    const s = await startServer(t, IAM_OVERRIDES);
    s.clock.advance(Math.max(0, Date.now() - s.clock.now())); // the browser's time
    // Two projects of the admin: one with an environment, one empty.
    const admin = s.server.iam.findUserByName('admin')!;
    const staging = await s.server.iam.createProject('staging', admin.domainId);
    await s.server.iam.addMember(admin.id, staging.id);
    const apiToken = (await login(s.url, ADMIN.name, ADMIN.password)).headers.get('x-subject-token')!;
    assert.equal((await new CasClient(s.url, apiToken).post('/environments', { name: 'env-default', vpc_id: 'vpc-local' })).status, 200);
    const browser = await launchBrowser(t);
    const { page, errors } = await openPage(browser);
    await page.goto(`${s.url}/console/`);
    await textbox(page, 'User name').fill('admin');
    await page.locator('input[type="password"]').fill(ADMIN.password);
    await page.getByTestId('sign-in').click();
    await title(page).filter({ hasText: 'Overview' }).waitFor();
    await page.locator('nav').getByRole('link', { name: 'Environments', exact: true }).click();
    await page.getByTestId('environments').getByText('env-default').waitFor();
    await choose(page, page, 'project', 'staging');
    await page.getByTestId('environments-empty').waitFor();
    assert.equal(await page.getByTestId('project-select').inputValue(), 'staging');
    const stagingToken = (await call(s.url, 'POST', '/v3/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', password: ADMIN.password } } }, scope: { project: { id: staging.id } } } } })).headers.get('x-subject-token')!;
    assert.equal((await new CasClient(s.url, stagingToken, staging.id).get('/environments')).body.count, 0);
    await choose(page, page, 'project', 'default');
    await page.getByTestId('environments').getByText('env-default').waitFor();
    s.clock.advance(25 * 3600 * 1000);
    await page.locator('nav').getByRole('link', { name: 'Applications', exact: true }).click();
    await page.getByTestId('session-message').waitFor();
    assert.match(await page.getByTestId('session-message').innerText(), /session has ended \(.*the token has expired\)/);
    await screenshot(page, 'session-expired');
    assert.deepEqual(errors, []);
  });

  it('opens without sign-in under --auth none, and every page works on an empty project', { timeout: 400_000 }, async (t) => {
    // Exclusive engines listen on ports the system picks (portMin 0) and stop with the server.
    const s = await startServer(t, { auth: 'none', 'engines.portMin': 0, 'engines.stopOnShutdown': true });
    const browser = await launchBrowser(t);
    const { page, errors } = await openPage(browser);
    await page.goto(`${s.url}/console/`);
    await title(page).filter({ hasText: 'Overview' }).waitFor();
    assert.equal(await page.getByTestId('sign-out').count(), 0);
    const project = (await call(s.url, 'GET', '/v3/auth/projects')).body.projects[0];
    assert.equal(await page.getByTestId('project-select').inputValue(), project.name);
    const pages: [string, string][] = [
      ['environments', 'Environments'],
      ['applications', 'Applications'],
      ['components', 'Components'],
      ['configs', 'Configuration'],
      ['stacks', 'Runtime stacks'],
      ['addons', 'Add-ons'],
      ['git', 'Git repositories'],
      ['microservices', 'Microservices'],
      ['kie', 'Config center'],
      ['engines', 'Engines'],
    ];
    for (const [path, name] of pages) {
      await page.goto(`${s.url}/console/${path}`);
      await title(page).filter({ hasText: name }).waitFor();
      await page.waitForLoadState('networkidle');
      assert.equal(await page.getByTestId('error').count(), 0, `${path} shows an error: ${await page.getByTestId('error').allInnerTexts()}`);
    }
    // The registry page lists what the API lists: only OpenStage's own SERVICECENTER.
    await page.goto(`${s.url}/console/microservices`);
    const listed: any[] = (await call(s.url, 'GET', '/v4/default/registry/microservices')).body.services ?? [];
    if (listed.length === 0) await page.getByTestId('services-empty').waitFor();
    for (const x of listed) await page.getByTestId('services').getByText(x.serviceName, { exact: true }).waitFor();
    // A bound resource's secret comes back masked, and the page shows it so; a missing
    // parameter is refused by the API with its own message.
    const env = (await call(s.url, 'POST', `/v3/${project.id}/cas/environments`, { body: { name: 'env-secrets', vpc_id: 'vpc-local' } })).body;
    await page.goto(`${s.url}/console/environments/${env.id}`);
    let d = await dialog(page, 'Bind resource');
    await choose(page, d, 'Type', 'dcs');
    await textbox(d, 'Resource ID').fill('cache-1');
    await textbox(d, 'Parameters').fill('host=127.0.0.1');
    await d.getByTestId('submit').click();
    await d.getByTestId('error').getByText('parameters.port is required').waitFor();
    await textbox(d, 'Parameters').fill('host=127.0.0.1\nport=6379\npassword=s3cret-cache');
    await d.getByTestId('submit').click();
    await page.getByTestId('resources').getByText('password=******').waitFor();
    const bound = (await call(s.url, 'GET', `/v3/${project.id}/cas/environments/${env.id}/resources`)).body.resources;
    assert.equal(bound[0].parameters.password, '******');
    assert.equal(await page.getByText('s3cret-cache').count(), 0);

    // Engines: create an exclusive engine, watch its job, delete it.
    await page.goto(`${s.url}/console/engines`);
    d = await dialog(page, 'Create engine');
    await textbox(d, 'Name').fill('-bad');
    await d.getByTestId('submit').click();
    await d.getByText('3–24 letters').waitFor();
    await textbox(d, 'Name').fill('eng-console');
    await d.getByTestId('submit').click();
    await page.getByTestId('engine-job').waitFor();
    await page.getByTestId('engines').getByText('Available').nth(1).waitFor({ timeout: 120_000 });
    const engines = (await call(s.url, 'GET', `/v2/${project.id}/enginemgr/engines`)).body.data;
    const made = engines.find((e: any) => e.name === 'eng-console');
    assert.equal(made.status, 'Available');
    await page.getByTestId('engine-job').getByText('Finished').first().waitFor({ timeout: 30_000 });
    await screenshot(page, 'engine-created');
    await page.getByTestId('engines').getByRole('button', { name: 'Delete' }).click();
    await confirm(page);
    await page.getByTestId('engines').getByText('eng-console').waitFor({ state: 'detached', timeout: 120_000 });
    assert.equal((await call(s.url, 'GET', `/v2/${project.id}/enginemgr/engines`)).body.data.some((e: any) => e.name === 'eng-console'), false);

    // An unknown environment: the API's own message.
    await page.goto(`${s.url}/console/environments/nope`);
    await page.getByTestId('error').waitFor();
    assert.match(await page.getByTestId('error').innerText(), /SVCSTG\.00100401/);
    assert.deepEqual(errors, []);
  });
});
