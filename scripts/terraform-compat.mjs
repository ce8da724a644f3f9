// Terraform compatibility test (run before each release; see README "Terraform"): the Huawei
// Cloud provider (huaweicloud/huaweicloud, PROVIDER_VERSION) pointed at a fresh OpenStage with
// custom endpoints drives each ServiceStage v3 resource, the Git authorization resources, the
// CSE registry/config resources and the ServiceStage v2 resources through
//   apply → plan clean → update → plan clean → import (ImportStateVerify) → destroy,
// each case in its own working directory, and prints a table of the results (also written as
// JSON to OPENSTAGE_TF_RESULTS, default $TMPDIR/openstage-terraform-results.json).
//
// Needs: `npm run build` done; `terraform` on PATH (or OPENSTAGE_TF_TERRAFORM); Go (the
// provider is built once from the Go module proxy and cached by version under
// OPENSTAGE_TF_CACHE, default /var/cache/openstage-ci/terraform; OPENSTAGE_TF_GOLANGSDK_DIR
// builds it against a local github.com/chnsz/golangsdk tree where the proxy cannot serve the
// pinned one); git and tar. No registry is reached: `terraform init` installs the provider from
// a filesystem mirror. OPENSTAGE_TF_ONLY=name,name runs some cases. Exits non-zero when a
// step failed.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PROVIDER_VERSION = '1.96.1';
const PROVIDER_MODULE = 'github.com/huaweicloud/terraform-provider-huaweicloud';
const root = new URL('..', import.meta.url).pathname;
const cache = process.env.OPENSTAGE_TF_CACHE || '/var/cache/openstage-ci/terraform';
const terraform = process.env.OPENSTAGE_TF_TERRAFORM || 'terraform';
const only = (process.env.OPENSTAGE_TF_ONLY || '').split(',').filter(Boolean);
const work = mkdtempSync(join(tmpdir(), 'openstage-tf-'));
const results = [];
const log = (...a) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

/**
 * Runs a command without blocking the event loop (the stand-ins and the HTTPS front below are
 * served by this process while Terraform runs); never throws.
 */
function run(cmd, args, opts = {}) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    let out = '';
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 15 * 60_000);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (err) => (out += String(err)));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out, ms: Date.now() - t0 });
    });
  });
}

// ───────────── the provider binary, built once per version ─────────────

/**
 * The provider binary, built from the Go module proxy when not cached: a wrapper module that
 * requires the provider at PROVIDER_VERSION with the provider's own replace directives and
 * go.sum, so that every dependency is the version the release pins.
 */
async function provider() {
  const bin = join(cache, 'bin', `terraform-provider-huaweicloud_v${PROVIDER_VERSION}`);
  if (existsSync(bin)) return bin;
  const env = { ...process.env, GOMODCACHE: join(cache, '..', 'go', 'mod'), GOCACHE: join(cache, 'go-build'), GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' };
  log(`building the provider ${PROVIDER_VERSION} from the Go module proxy (once; about 10 minutes and 2 GB of build cache on 2 cores)`);
  let r = await run('go', ['mod', 'download', '-json', `${PROVIDER_MODULE}@v${PROVIDER_VERSION}`], { env });
  if (r.code !== 0) throw new Error(`go mod download ${PROVIDER_MODULE}: ${r.out}`);
  const dir = JSON.parse(r.out).Dir;
  const build = join(cache, `build-${PROVIDER_VERSION}`);
  mkdirSync(build, { recursive: true });
  const replaces = readFileSync(join(dir, 'go.mod'), 'utf8').split('\n').filter((l) => /^replace\s/.test(l));
  if (process.env.OPENSTAGE_TF_GOLANGSDK_DIR) replaces.push(`replace github.com/chnsz/golangsdk => ${process.env.OPENSTAGE_TF_GOLANGSDK_DIR}`);
  writeFileSync(join(build, 'go.mod'), `module openstage-ci/terraform-provider-build\n\ngo 1.24.0\n\nrequire ${PROVIDER_MODULE} v${PROVIDER_VERSION}\n\n${replaces.join('\n')}\n`);
  copyFileSync(join(dir, 'go.sum'), join(build, 'go.sum'));
  r = await run('go', ['build', '-trimpath', '-o', bin, PROVIDER_MODULE], { cwd: build, env: { ...env, GOSUMDB: 'off' }, timeoutMs: 90 * 60_000 });
  if (r.code !== 0) throw new Error(`building the provider failed:\n${r.out.split('\n').filter((l) => !l.startsWith('go: downloading')).join('\n')}`);
  log(`provider built in ${Math.round(r.ms / 1000)} s: ${bin}`);
  return bin;
}

/** A filesystem mirror holding the provider, and a CLI config that installs only from it. */
function cliConfig(bin) {
  const mirror = join(work, 'mirror');
  const target = join(mirror, 'registry.terraform.io', 'huaweicloud', 'huaweicloud', PROVIDER_VERSION, 'linux_amd64');
  mkdirSync(target, { recursive: true });
  copyFileSync(bin, join(target, `terraform-provider-huaweicloud_v${PROVIDER_VERSION}`));
  const file = join(work, 'terraformrc');
  writeFileSync(file, `provider_installation {\n  filesystem_mirror {\n    path    = "${mirror}"\n    include = ["registry.terraform.io/huaweicloud/huaweicloud"]\n  }\n}\n`);
  return file;
}

// ───────────── OpenStage and the hosts it talks to ─────────────

const CREDS = { ak: 'TFCOMPATAKTFCOMPAT01', sk: 'tfcompatSecretKeyTfcompatSecretKey0001', project: 'tf0c0ffee0c0ffee0c0ffee0c0ffee00', password: 'Tf-Compat-Passw0rd!' };

/**
 * Stand-ins for the cloud services the provider calls besides OpenStage's APIs: the Bitbucket
 * API (the password authorization resource accepts only devcloud and bitbucket, and OpenStage
 * reads the account from the host) and the two VPC reads of huaweicloud_cse_microservice_engine
 * (its network_id is a subnet whose VPC name and CIDR go into the engine body).
 */
async function cloudStandIns() {
  const json = (res, body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = createServer((req, res) => {
    const path = req.url ?? '';
    if (path.startsWith('/2.0/user')) return json(res, { username: 'tf-user', links: { html: { href: 'https://bitbucket.example/tf-user' }, avatar: { href: '' } } });
    let m = /^\/v1\/[^/]+\/subnets\/([^/?]+)/.exec(path);
    if (m) return json(res, { subnet: { id: m[1], name: 'subnet-local', vpc_id: 'vpc-local', cidr: '192.168.0.0/24', status: 'ACTIVE' } });
    m = /^\/v1\/[^/]+\/vpcs\/([^/?]+)/.exec(path);
    if (m) return json(res, { vpc: { id: m[1], name: 'vpc-local', cidr: '192.168.0.0/16', status: 'OK' } });
    res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  return { bitbucket: `${base}/2.0`, vpc: `${base}/`, close: () => server.close() };
}

/**
 * An HTTPS front of OpenStage on 127.0.0.1 (a throw-away self-signed certificate): the CSE
 * resources' import IDs only parse `https://<IPv4>:<port>` addresses (services/cse/config.go).
 */
async function tlsFront(target) {
  const key = join(work, 'tls.key');
  const cert = join(work, 'tls.crt');
  const r = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
  if (r.code !== 0) throw new Error(`openssl: ${r.out}`);
  const upstream = new URL(target);
  const server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => res.writeHead(502).end());
    req.pipe(out);
  });
  await new Promise((r2) => server.listen(0, '127.0.0.1', r2));
  return { url: `https://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts `openstage serve` on a free port with fixed credentials; resolves when /health answers. */
async function openstage(bitbucketUrl) {
  const port = await freePort();
  const dataDir = join(work, 'openstage-data');
  const env = {
    ...process.env,
    OPENSTAGE_ACCESS_KEY: CREDS.ak,
    OPENSTAGE_SECRET_KEY: CREDS.sk,
    OPENSTAGE_PROJECT_ID: CREDS.project,
    OPENSTAGE_ADMIN_PASSWORD: CREDS.password,
    OPENSTAGE_GIT_BITBUCKET_API_URL: bitbucketUrl,
    OPENSTAGE_DEPLOY_SETTLE_SECONDS: '1',
    OPENSTAGE_DEPLOY_MONITOR_SECONDS: '1',
  };
  const child = spawn(process.execPath, [join(root, 'dist/src/cli.js'), 'serve', '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    if ((await fetch(`${url}/health`).catch(() => undefined))?.status === 200) return { url, stop: () => child.kill('SIGTERM') };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`openstage did not start: ${stderr}`);
}

/** examples/node-hello as a .tar.gz (file:// URL) and as a file:// git repository. */
async function sources() {
  const tgz = join(work, 'node-hello.tar.gz');
  const r = await run('tar', ['-czf', tgz, '-C', join(root, 'examples'), 'node-hello']);
  if (r.code !== 0) throw new Error(`tar: ${r.out}`);
  return { pkg: `file://${tgz}` };
}

// ───────────── the cases ─────────────

/**
 * One case per resource: `steps` are the configurations applied in turn (the second is the
 * update; none when every argument forces a new resource, as noted), `imports` the resources
 * imported back with the ID the provider documents and the attributes its own acceptance
 * test leaves out of ImportStateVerify (huaweicloud/services/acceptance/…_test.go).
 */
function cases(ctx) {
  const { url, https, pkg } = ctx;
  const u = (p) => `${p}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const n = { env: u('tfenv'), app: u('tfapp'), grp: u('tfgrp'), cfg: u('tfcfg'), stack: u('tfstack'), comp: u('tfcomp'), auth: u('tfauth'), pw: u('tfpw'), engine: u('tfeng'), svc: u('tfsvc'), key: u('tfkey') };
  const env3 = `resource "huaweicloud_servicestagev3_environment" "env" {\n  name        = "${n.env}"\n  vpc_id      = "vpc-local"\n  deploy_mode = "virtualmachine"\n}\n`;
  const app3 = `resource "huaweicloud_servicestagev3_application" "app" {\n  name = "${n.app}"\n}\n`;
  const component3 = (version, greeting) => `${env3}${app3}
resource "huaweicloud_servicestagev3_component" "test" {
  application_id = huaweicloud_servicestagev3_application.app.id
  environment_id = huaweicloud_servicestagev3_environment.env.id
  name           = "${n.comp}"
  version        = "${version}"
  replica        = 1
  source = jsonencode({ "kind" : "package", "storage" : "obs", "url" : "${pkg}" })
  runtime_stack {
    name        = "Nodejs20"
    type        = "Nodejs"
    version     = "1.0.0"
    deploy_mode = "virtualmachine"
  }
  refer_resources {
    id   = "local"
    type = "ecs"
  }
  envs {
    name  = "GREETING"
    value = "${greeting}"
  }
  readiness_probe {
    type    = "http"
    path    = "/health"
    delay   = 0
    timeout = 2
  }
  # As the provider's own test: without tags its plan shows "+ tags" forever (its read never
  # sets tags, and an empty map plans as unknown), whatever the server answers.
  tags = {
    owner = "terraform"
  }
}
`;
  // Through the HTTPS front: the import IDs of the CSE resources only parse https://<IPv4>:<port>.
  const cse = `  auth_address    = "${https}"\n  connect_address = "${https}"\n`;
  const env2 = (description) => `resource "huaweicloud_servicestage_environment" "env" {
  name        = "${n.env}"
  description = "${description}"
  vpc_id      = "vpc-local"
  deploy_mode = "virtualmachine"
  basic_resources {
    id   = "local"
    type = "ecs"
  }
${description === 'first' ? '  optional_resources {\n    id   = "default"\n    type = "cse"\n  }\n' : ''}}
`;
  const app2 = `resource "huaweicloud_servicestage_application" "app" {\n  name = "${n.app}"\n}\n`;
  const comp2 = `resource "huaweicloud_servicestage_component" "comp" {
  application_id = huaweicloud_servicestage_application.app.id
  name           = "${n.comp}"
  type           = "Webapp"
  runtime        = "Nodejs8"
  source {
    type         = "package"
    storage_type = "obs"
    url          = "${pkg}"
  }
}
`;
  const id = (a) => (s) => s[a].id;
  return [
    // ── ServiceStage v3 ──
    {
      name: 'servicestagev3_environment',
      steps: [env3.replace('\n}', '\n  description = "first"\n}'), env3.replace('\n}', '\n  description = "second"\n  tags = {\n    owner = "terraform"\n  }\n}')],
      imports: [{ address: 'huaweicloud_servicestagev3_environment.env', id: id('huaweicloud_servicestagev3_environment.env') }],
    },
    {
      name: 'servicestagev3_application',
      steps: [app3.replace('\n}', '\n  description = "first"\n}'), app3.replace('\n}', '\n  description = "second"\n  tags = {\n    owner = "terraform"\n  }\n}')],
      imports: [{ address: 'huaweicloud_servicestagev3_application.app', id: id('huaweicloud_servicestagev3_application.app') }],
    },
    {
      name: 'servicestagev3_application_configuration',
      steps: ['one', 'two'].map(
        (v) => `${env3}${app3}resource "huaweicloud_servicestagev3_application_configuration" "test" {
  environment_id = huaweicloud_servicestagev3_environment.env.id
  application_id = huaweicloud_servicestagev3_application.app.id
  configuration {
    env {
      name  = "STAGE"
      value = "${v}"
    }
  }
}
`,
      ),
      imports: [{ address: 'huaweicloud_servicestagev3_application_configuration.test', id: (s) => `${s['huaweicloud_servicestagev3_environment.env'].id}/${s['huaweicloud_servicestagev3_application.app'].id}` }],
    },
    {
      name: 'servicestagev3_environment_associate',
      steps: [
        [['local', 'ecs']],
        [['local', 'ecs'], ['default', 'cse']],
      ].map(
        (rs) => `${env3}resource "huaweicloud_servicestagev3_environment_associate" "test" {
  environment_id = huaweicloud_servicestagev3_environment.env.id
${rs.map(([i, t]) => `  resources {\n    id   = "${i}"\n    type = "${t}"\n  }\n`).join('')}}
`,
      ),
      imports: [{ address: 'huaweicloud_servicestagev3_environment_associate.test', id: id('huaweicloud_servicestagev3_environment_associate.test'), ignore: ['resources_origin'] }],
    },
    {
      name: 'servicestagev3_configuration_group',
      note: 'name and description are NonUpdatable: no update step',
      steps: [`resource "huaweicloud_servicestagev3_configuration_group" "test" {\n  name        = "${n.grp}"\n  description = "group"\n}\n`],
      imports: [{ address: 'huaweicloud_servicestagev3_configuration_group.test', id: id('huaweicloud_servicestagev3_configuration_group.test') }],
    },
    {
      name: 'servicestagev3_configuration',
      steps: ['a: 1', 'a: 2'].map(
        (content) => `resource "huaweicloud_servicestagev3_configuration_group" "grp" {\n  name = "${n.grp}"\n}\nresource "huaweicloud_servicestagev3_configuration" "test" {
  config_group_id = huaweicloud_servicestagev3_configuration_group.grp.id
  name            = "${n.cfg}"
  type            = "yaml"
  content         = "${content}"
  description     = "config file"
}
`,
      ),
      imports: [{ address: 'huaweicloud_servicestagev3_configuration.test', id: id('huaweicloud_servicestagev3_configuration.test') }],
    },
    {
      name: 'servicestagev3_runtime_stack',
      steps: ['1.0.0', '1.0.1'].map(
        (version) => `resource "huaweicloud_servicestagev3_runtime_stack" "test" {
  name        = "${n.stack}"
  deploy_mode = "virtualmachine"
  type        = "Java"
  version     = "${version}"
  description = "stack ${version}"
}
`,
      ),
      imports: [{ address: 'huaweicloud_servicestagev3_runtime_stack.test', id: id('huaweicloud_servicestagev3_runtime_stack.test'), ignore: ['spec_origin'] }],
    },
    {
      name: 'servicestagev3_runtime_stack_batch_release',
      note: 'an action resource: no import',
      steps: [
        `resource "huaweicloud_servicestagev3_runtime_stack" "stack" {\n  name        = "${n.stack}"\n  deploy_mode = "virtualmachine"\n  type        = "Java"\n  version     = "1.0.0"\n}\nresource "huaweicloud_servicestagev3_runtime_stack_batch_release" "test" {\n  runtime_stack_ids = [huaweicloud_servicestagev3_runtime_stack.stack.id]\n}\n`,
      ],
      imports: [],
    },
    {
      name: 'servicestagev3_component',
      steps: [component3('1.0.0', 'one'), component3('1.0.1', 'two')],
      imports: [{ address: 'huaweicloud_servicestagev3_component.test', id: (s) => `${s['huaweicloud_servicestagev3_application.app'].id}/${s['huaweicloud_servicestagev3_component.test'].id}`, ignore: ['tags', 'source_origin', 'build_origin', 'deploy_strategy.0.rolling_release_origin', 'command_origin', 'tomcat_opts_origin', 'update_strategy_origin'] }],
    },
    {
      name: 'servicestagev3_component_action',
      note: 'an action resource: no update, no import',
      steps: [
        `${component3('1.0.0', 'one')}resource "huaweicloud_servicestagev3_component_action" "test" {\n  application_id = huaweicloud_servicestagev3_application.app.id\n  component_id   = huaweicloud_servicestagev3_component.test.id\n  action         = "restart"\n}\n`,
      ],
      imports: [],
    },
    {
      name: 'servicestagev3_component_refresh',
      note: 'an action resource: no update, no import',
      steps: [`${component3('1.0.0', 'one')}resource "huaweicloud_servicestagev3_component_refresh" "test" {\n  application_id = huaweicloud_servicestagev3_application.app.id\n  component_id   = huaweicloud_servicestagev3_component.test.id\n}\n`],
      imports: [],
    },
    // ── Git authorizations ──
    {
      name: 'servicestage_repo_token_authorization',
      note: 'every argument forces a new resource: the update step replaces it',
      steps: ['token-one', 'token-two'].map((token) => `resource "huaweicloud_servicestage_repo_token_authorization" "test" {\n  name  = "${n.auth}"\n  type  = "local"\n  token = "${token}"\n}\n`),
      imports: [{ address: 'huaweicloud_servicestage_repo_token_authorization.test', id: id('huaweicloud_servicestage_repo_token_authorization.test'), ignore: ['token', 'host'] }],
    },
    {
      name: 'servicestage_repo_password_authorization',
      note: 'type is devcloud or bitbucket only: bitbucket, against a stand-in Bitbucket API; every argument forces a new resource',
      steps: ['Pass-one-1', 'Pass-two-2'].map((password) => `resource "huaweicloud_servicestage_repo_password_authorization" "test" {\n  name      = "${n.pw}"\n  type      = "bitbucket"\n  user_name = "tf-user"\n  password  = "${password}"\n}\n`),
      imports: [{ address: 'huaweicloud_servicestage_repo_password_authorization.test', id: id('huaweicloud_servicestage_repo_password_authorization.test'), ignore: ['user_name', 'password'] }],
    },
    // ── CSE ──
    {
      name: 'cse_microservice_engine',
      steps: ['first', 'second'].map(
        (d) => `resource "huaweicloud_cse_microservice_engine" "test" {
  name               = "${n.engine}"
  flavor             = "cse.s1.small2"
  network_id         = "net-local"
  auth_type          = "NONE"
  availability_zones = ["az1"]
  description        = "${d}"
  tags = {
    stage = "${d}"
  }
}
`,
      ),
      imports: [{ address: 'huaweicloud_cse_microservice_engine.test', id: id('huaweicloud_cse_microservice_engine.test'), ignore: ['admin_pass', 'extend_params', 'max_retries'] }],
    },
    {
      name: 'cse_microservice',
      note: 'every argument is NonUpdatable: no update step',
      steps: [`resource "huaweicloud_cse_microservice" "test" {\n${cse}  name        = "${n.svc}"\n  app_name    = "${n.app}"\n  version     = "1.0.0"\n  environment = "development"\n  level       = "BACK"\n  description = "tf"\n}\n`],
      imports: [{ address: 'huaweicloud_cse_microservice.test', id: (s) => `${https}/${https}/${s['huaweicloud_cse_microservice.test'].id}`, ignore: ['auth_address'] }],
    },
    {
      name: 'cse_microservice_instance',
      steps: ['UP', 'DOWN'].map(
        (status) => `resource "huaweicloud_cse_microservice" "svc" {\n${cse}  name     = "${n.svc}"\n  app_name = "${n.app}"\n  version  = "1.0.0"\n  level    = "BACK"\n}\nresource "huaweicloud_cse_microservice_instance" "test" {
${cse}  microservice_id = huaweicloud_cse_microservice.svc.id
  host_name       = "tf-host"
  endpoints       = ["rest://127.0.0.1:18080"]
  version         = "1.0.0"
  status          = "${status}"
  properties = {
    owner = "terraform"
  }
  health_check {
    mode        = "push"
    interval    = 30
    max_retries = 3
  }
}
`,
      ),
      imports: [{ address: 'huaweicloud_cse_microservice_instance.test', id: (s) => `${https}/${https}/${s['huaweicloud_cse_microservice.svc'].id}/${s['huaweicloud_cse_microservice_instance.test'].id}`, ignore: ['auth_address'] }],
    },
    {
      name: 'cse_microservice_engine_configuration',
      steps: [
        ['bar', 'enabled'],
        ['baar', 'disabled'],
      ].map(
        ([v, status]) => `resource "huaweicloud_cse_microservice_engine_configuration" "test" {
${cse}  key        = "${n.key}"
  value_type = "json"
  value      = jsonencode({ "foo" : "${v}" })
  status     = "${status}"
  tags = {
    app = "${n.app}"
  }
}
`,
      ),
      imports: [{ address: 'huaweicloud_cse_microservice_engine_configuration.test', id: (s) => `${https}/${https}/${s['huaweicloud_cse_microservice_engine_configuration.test'].key}` }],
    },
    // ── ServiceStage v2 ──
    {
      name: 'servicestage_environment',
      steps: [env2('first'), env2('second')],
      imports: [{ address: 'huaweicloud_servicestage_environment.env', id: id('huaweicloud_servicestage_environment.env'), ignore: ['basic_resources', 'optional_resources', 'basic_resources_origin', 'optional_resources_origin'] }],
    },
    {
      name: 'servicestage_application',
      steps: ['one', 'two'].map(
        (v) => `${env2('first')}resource "huaweicloud_servicestage_application" "app" {
  name        = "${n.app}"
  description = "${v}"
  environment {
    id = huaweicloud_servicestage_environment.env.id
    variable {
      name  = "STAGE"
      value = "${v}"
    }
  }
}
`,
      ),
      imports: [{ address: 'huaweicloud_servicestage_application.app', id: id('huaweicloud_servicestage_application.app') }],
    },
    {
      name: 'servicestage_component',
      steps: [`${app2}${comp2}`, `${app2}${comp2.replace(`"${n.comp}"`, `"${n.comp}x"`)}`],
      imports: [{ address: 'huaweicloud_servicestage_component.comp', id: (s) => `${s['huaweicloud_servicestage_application.app'].id}/${s['huaweicloud_servicestage_component.comp'].id}` }],
    },
    {
      name: 'servicestage_component_instance',
      steps: ['1.0.0', '1.0.1'].map(
        (version) => `${env2('first')}${app2}${comp2}resource "huaweicloud_servicestage_component_instance" "test" {
  application_id = huaweicloud_servicestage_application.app.id
  component_id   = huaweicloud_servicestage_component.comp.id
  environment_id = huaweicloud_servicestage_environment.env.id
  name           = "tf-instance"
  version        = "${version}"
  replica        = 1
  flavor_id      = "CUSTOM-10G:250m-250m:0.5Gi-0.5Gi"
  description    = "version ${version}"
  artifact {
    name      = huaweicloud_servicestage_component.comp.name
    type      = "package"
    storage   = "obs"
    url       = "${pkg}"
    auth_type = "iam"
  }
  refer_resource {
    type = "ecs"
    id   = "local"
  }
  configuration {
    env_variable {
      name  = "GREETING"
      value = "${version}"
    }
    strategy {
      upgrade = "RollingUpdate"
    }
  }
}
`,
      ),
      imports: [
        {
          address: 'huaweicloud_servicestage_component_instance.test',
          id: (s) => `${s['huaweicloud_servicestage_application.app'].id}/${s['huaweicloud_servicestage_component.comp'].id}/${s['huaweicloud_servicestage_component_instance.test'].id}`,
        },
      ],
    },
    {
      name: 'data.servicestage_component_runtimes',
      note: 'a data source: read only',
      steps: [`data "huaweicloud_servicestage_component_runtimes" "test" {}\noutput "runtimes" {\n  value = [for r in data.huaweicloud_servicestage_component_runtimes.test.runtimes : r.name]\n}\n`],
      imports: [],
    },
  ];
}

// ───────────── running a case ─────────────

function header({ url, vpc }) {
  return `terraform {
  required_providers {
    huaweicloud = {
      source  = "huaweicloud/huaweicloud"
      version = "${PROVIDER_VERSION}"
    }
  }
}

provider "huaweicloud" {
  region     = "cn-north-4"
  access_key = "${CREDS.ak}"
  secret_key = "${CREDS.sk}"
  project_id = "${CREDS.project}"
  auth_url   = "${url}/v3"
  insecure   = true
  endpoints = {
    iam          = "${url}/"
    servicestage = "${url}/"
    cse          = "${url}/"
    vpc          = "${vpc}"
  }
}

`;
}

/** Every attribute of a resource in `terraform show -json`, flattened to `a.0.b` keys. */
function flatten(v, prefix = '', out = {}) {
  if (v !== null && typeof v === 'object') {
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
    if (entries.length === 0) out[prefix] = Array.isArray(v) ? '[]' : '{}';
    for (const [k, x] of entries) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else out[prefix] = v;
  return out;
}

async function resourcesOf(tf, dir) {
  const r = await tf(dir, ['show', '-json']);
  const values = JSON.parse(r.out.slice(r.out.indexOf('{'))).values?.root_module?.resources ?? [];
  return Object.fromEntries(values.map((x) => [x.address, x.values]));
}

/**
 * The attributes that differ between two flattened states, but for `ignore`d ones (and their
 * children). As in the SDK's ImportStateVerify (which compares flatmap attributes), a null
 * equals its type's zero value ("", 0, false, an empty list or map).
 */
function differences(before, after, ignore) {
  const skip = (k) => ignore.some((i) => k === i || k.startsWith(`${i}.`)) || k === 'id';
  const norm = (v) => (v === null || v === undefined || v === '' || v === 0 || v === false || v === '[]' || v === '{}' ? '' : JSON.stringify(v));
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => !skip(k) && norm(before[k]) !== norm(after[k])).map((k) => `${k}: ${JSON.stringify(before[k] ?? null)} → ${JSON.stringify(after[k] ?? null)}`);
}

/** The first lines of an error in Terraform output. */
function excerpt(out) {
  const lines = out.split('\n');
  const at = lines.findIndex((l) => /Error:|error/.test(l));
  return lines.slice(Math.max(0, at), at + 8).join(' ').replace(/\s+/g, ' ').replace(/[│╷╵]/g, '').trim().slice(0, 400);
}

async function runCase(c, ctx, tf) {
  const dir = join(work, c.name);
  mkdirSync(dir, { recursive: true });
  const res = { name: c.name, note: c.note ?? '', steps: {}, ms: 0 };
  const t0 = Date.now();
  const step = async (name, fn) => {
    const r = await fn();
    res.steps[name] = r;
    log(`${c.name}: ${name} ${r.ok ? 'ok' : `FAILED ${r.detail}`}`);
    return r.ok;
  };
  const write = (i) => writeFileSync(join(dir, 'main.tf'), header(ctx) + c.steps[i]);
  const apply = async () => {
    const r = await tf(dir, ['apply', '-auto-approve', '-input=false']);
    return r.code === 0 ? { ok: true } : { ok: false, detail: excerpt(r.out) };
  };
  const clean = async () => {
    const r = await tf(dir, ['plan', '-detailed-exitcode', '-input=false']);
    if (r.code === 0) return { ok: true };
    if (r.code === 2) return { ok: false, detail: `plan not clean: ${r.out.split('\n').filter((l) => /^\s+[~+-]|must be replaced|will be (updated|created|destroyed)/.test(l)).slice(0, 12).join(' | ').replace(/\s+/g, ' ')}` };
    return { ok: false, detail: excerpt(r.out) };
  };
  const finish = () => {
    res.ms = Date.now() - t0;
    res.ok = Object.values(res.steps).every((s) => s.ok);
    results.push(res);
    return res;
  };
  write(0);
  const init = await tf(dir, ['init', '-input=false']);
  if (!(await step('init', async () => (init.code === 0 ? { ok: true } : { ok: false, detail: excerpt(init.out) })))) return finish();
  if (await step('apply', apply)) await step('plan clean', clean);
  if (c.steps.length > 1 && res.steps.apply.ok) {
    write(1);
    if (await step('update', apply)) await step('plan clean after update', clean);
  }
  const state = res.steps.apply.ok ? await resourcesOf(tf, dir) : {};
  for (const imp of c.imports) {
    if (!state[imp.address]) continue;
    await step(`import ${imp.address}`, async () => {
      const before = flatten(state[imp.address]);
      const importId = imp.id(state);
      const rm = await tf(dir, ['state', 'rm', imp.address]);
      if (rm.code !== 0) return { ok: false, detail: excerpt(rm.out) };
      const r = await tf(dir, ['import', '-input=false', imp.address, importId]);
      if (r.code !== 0) return { ok: false, detail: excerpt(r.out) };
      const after = flatten((await resourcesOf(tf, dir))[imp.address] ?? {});
      const diff = differences(before, after, imp.ignore ?? []);
      return diff.length === 0 ? { ok: true } : { ok: false, detail: `ImportStateVerify: ${diff.slice(0, 8).join('; ')}` };
    });
  }
  await step('destroy', async () => {
    const r = await tf(dir, ['destroy', '-auto-approve', '-input=false']);
    if (r.code !== 0) return { ok: false, detail: excerpt(r.out) };
    const left = (await tf(dir, ['state', 'list'])).out.trim();
    return left ? { ok: false, detail: `left in state: ${left}` } : { ok: true };
  });
  return finish();
}

// ───────────── main ─────────────

const started = Date.now();
let server;
let standIns;
let front;
let failed = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server?.stop();
    process.exit(130);
  });
}
try {
  const tfVersion = await run(terraform, ['version'], { env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1' } });
  if (tfVersion.code !== 0) throw new Error(`${terraform} not found: install the Terraform CLI (HashiCorp's release binary; Debian has no package and github.com/hashicorp/terraform does not build from the Go module proxy) or set OPENSTAGE_TF_TERRAFORM`);
  log(tfVersion.out.split('\n')[0]);
  const bin = await provider();
  const rc = cliConfig(bin);
  standIns = await cloudStandIns();
  server = await openstage(standIns.bitbucket);
  front = await tlsFront(server.url);
  log(`openstage at ${server.url} (https front ${front.url})`);
  const ctx = { url: server.url, https: front.url, vpc: standIns.vpc, ...(await sources()) };
  const env = { ...process.env, TF_CLI_CONFIG_FILE: rc, TF_IN_AUTOMATION: '1', TF_INPUT: '0', CHECKPOINT_DISABLE: '1', NO_COLOR: '1' };
  delete env.TF_PLUGIN_CACHE_DIR;
  const tf = async (dir, args) => {
    const r = await run(terraform, args, { cwd: dir, env });
    // eslint-disable-next-line no-control-regex
    return { ...r, out: r.out.replace(/\x1b\[[0-9;]*m/g, '') };
  };
  for (const c of cases(ctx)) {
    if (only.length > 0 && !only.includes(c.name)) continue;
    await runCase(c, ctx, tf);
  }
} catch (err) {
  failed = true;
  console.error(err instanceof Error ? err.message : err);
} finally {
  server?.stop();
  front?.close();
  standIns?.close();
}

// ───────────── report ─────────────

const cell = (s) => (s === undefined ? '–' : s.ok ? 'ok' : 'FAIL');
console.log('\n| resource | apply | plan clean | update | plan clean | import | destroy | s |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const s = r.steps;
  const imp = Object.entries(s).filter(([k]) => k.startsWith('import '));
  console.log(`| ${r.name} | ${cell(s.apply)} | ${cell(s['plan clean'])} | ${cell(s.update)} | ${cell(s['plan clean after update'])} | ${imp.length ? (imp.every(([, v]) => v.ok) ? 'ok' : 'FAIL') : '–'} | ${cell(s.destroy)} | ${Math.round(r.ms / 1000)} |`);
}
for (const r of results.filter((x) => !x.ok)) {
  for (const [k, v] of Object.entries(r.steps)) if (!v.ok) console.log(`- ${r.name} ${k}: ${v.detail}`);
}
const out = process.env.OPENSTAGE_TF_RESULTS || join(tmpdir(), 'openstage-terraform-results.json');
writeFileSync(out, JSON.stringify({ provider: PROVIDER_VERSION, seconds: Math.round((Date.now() - started) / 1000), results }, null, 2));
const passed = results.filter((r) => r.ok).length;
console.log(`\nresults: ${out}`);
console.log(`terraform: ${passed} passed, ${results.length - passed + (failed ? 1 : 0)} failed`);
if (!process.env.OPENSTAGE_TF_KEEP) rmSync(work, { recursive: true, force: true, maxRetries: 3 });
process.exit(failed || passed !== results.length ? 1 : 0);
