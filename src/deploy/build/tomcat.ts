import { createHash, randomUUID } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuildError, httpGet, insideDir, redact, runLogged } from './run.js';

/**
 * The Tomcat runtime of the process runtime (runtime stack type `Tomcat`): the Apache Tomcat
 * distribution (`org.apache.tomcat:tomcat:<version>` tar.gz from Maven Central or a mirror,
 * checksum-verified and unpacked once into a cache, or an existing CATALINA_HOME), and the
 * per-replica CATALINA_BASE in which a component's war runs as ROOT.
 */

/** Where the Tomcat distribution comes from (config `deploy.tomcat*`). */
export interface TomcatSettings {
  /** An existing CATALINA_HOME to use as is; empty = download `version`. */
  home: string;
  /** Tomcat version to download, e.g. `10.1.59`. */
  version: string;
  /** Base URL of the `org/apache/tomcat/tomcat` folder of a Maven repository (http(s) or file). */
  baseUrl: string;
  /** Folder holding one unpacked distribution per version (`<dataDir>/deploy/tomcat`). */
  cacheDir: string;
  /** Address the HTTP connector of each replica binds. */
  address: string;
}

/** How a replica runs a war in Tomcat; stored with the release's launch. */
export interface TomcatLaunch {
  /** CATALINA_HOME (absolute). */
  home: string;
  /** The war, relative to the artifact directory. */
  war: string;
  /** Address the HTTP connector binds. */
  address: string;
}

/** Largest Tomcat distribution download, bytes. */
export const MAX_TOMCAT_BYTES = 64 * 1024 * 1024;

/** Age after which a partial download or unpack left by a killed build is removed, milliseconds. */
const STALE_PARTIAL_MS = 60 * 60 * 1000;

/**
 * Downloads in progress in this process, by target folder: concurrent builds share one, which
 * is aborted only when every build waiting for it has been aborted (cancelled or timed out).
 */
const inFlight = new Map<string, { promise: Promise<string>; waiters: number; controller: AbortController }>();

/** Whether `dir` looks like a Tomcat installation (the two jars a replica's class path needs). */
export function isCatalinaHome(dir: string): boolean {
  return existsSync(join(dir, 'bin', 'bootstrap.jar')) && existsSync(join(dir, 'bin', 'tomcat-juli.jar')) && existsSync(join(dir, 'conf'));
}

/**
 * The CATALINA_HOME to run wars with: `settings.home` when set (checked), else
 * `<cacheDir>/<version>`, downloaded and unpacked on first use: the tar.gz and its `.sha512`
 * (or `.sha1` when the repository has no sha512) are fetched, the digest compared, the archive
 * unpacked into a temporary folder beside the cache entry and renamed into place, so that a
 * build killed mid-way leaves no half entry and concurrent builds (in this process or others)
 * end with one complete copy.
 * @throws BuildError naming the URL and the reason (unreachable, HTTP status, checksum
 *   mismatch, not a Tomcat archive), or when `settings.home` is not a Tomcat installation
 */
export async function ensureTomcatHome(settings: TomcatSettings, options: { env: Record<string, string>; logFile: string; signal: AbortSignal; log(line: string): void }): Promise<string> {
  if (settings.home) {
    if (!isCatalinaHome(settings.home)) throw new BuildError(`deploy.tomcatHome ${settings.home} is not a Tomcat installation (bin/bootstrap.jar, bin/tomcat-juli.jar and conf/ are needed)`);
    if (!worldReadable(settings.home)) throw new BuildError(`deploy.tomcatHome ${settings.home} is not readable by every user (replicas run as unprivileged project users): chmod -R a+rX ${settings.home}`);
    options.log(`Tomcat from ${settings.home}`);
    return settings.home;
  }
  if (!/^[0-9A-Za-z][0-9A-Za-z._-]*$/.test(settings.version)) throw new BuildError(`deploy.tomcatVersion '${settings.version}' is not a version`);
  const target = join(settings.cacheDir, settings.version);
  if (isCatalinaHome(target)) {
    // A copy unpacked before replicas were confined kept the archive's owner-only modes.
    if (!worldReadable(target)) await runLogged('chmod', ['-R', 'a+rX', target], { cwd: settings.cacheDir, env: options.env, logFile: options.logFile, signal: options.signal });
    options.log(`Tomcat ${settings.version} (cached)`);
    return target;
  }
  let pending = inFlight.get(target);
  if (pending) {
    options.log(`waiting for the download of Tomcat ${settings.version} another build started`);
  } else {
    const controller = new AbortController();
    const started = { promise: download(settings, target, { ...options, signal: controller.signal }), waiters: 0, controller };
    started.promise = started.promise.finally(() => inFlight.delete(target));
    // Awaited by every waiter; this handler only keeps a download nobody waits for any more from being unhandled.
    started.promise.catch(() => undefined);
    inFlight.set(target, (pending = started));
  }
  const shared = pending;
  shared.waiters++;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      shared.promise,
      new Promise<never>((_, reject) => {
        onAbort = () => {
          if (--shared.waiters === 0) shared.controller.abort(options.signal.reason);
          reject(options.signal.reason instanceof Error ? options.signal.reason : new Error(String(options.signal.reason)));
        };
        if (options.signal.aborted) onAbort();
        else options.signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    if (onAbort && !options.signal.aborted) {
      options.signal.removeEventListener('abort', onAbort);
      shared.waiters--;
    }
  }
}

async function download(settings: TomcatSettings, target: string, options: { env: Record<string, string>; logFile: string; signal: AbortSignal; log(line: string): void }): Promise<string> {
  const { version } = settings;
  mkdirSync(settings.cacheDir, { recursive: true });
  removeStalePartials(settings.cacheDir);
  const url = `${settings.baseUrl.replace(/\/+$/, '')}/${version}/tomcat-${version}.tar.gz`;
  const started = Date.now();
  options.log(`download Tomcat ${version} from ${redact(url)}`);
  const archive = await fetchBytes(url, MAX_TOMCAT_BYTES, options.signal);
  if (!archive) throw new BuildError(`cannot download Tomcat ${version}: ${redact(url)} answered 404 (set deploy.tomcatVersion to a published version, deploy.tomcatUrl to a mirror, or deploy.tomcatHome to a local installation)`);
  let checked = false;
  for (const algorithm of ['sha512', 'sha1'] as const) {
    const sum = await fetchBytes(`${url}.${algorithm}`, 4096, options.signal);
    if (!sum) continue;
    const expected = sum.toString('utf8').trim().split(/\s+/)[0]!.toLowerCase();
    const actual = createHash(algorithm).update(archive).digest('hex');
    if (expected !== actual) throw new BuildError(`the Tomcat ${version} download from ${redact(url)} does not match its ${algorithm} checksum (expected ${expected}, got ${actual}); nothing was kept`);
    checked = true;
    break;
  }
  if (!checked) throw new BuildError(`cannot verify the Tomcat ${version} download: neither ${redact(url)}.sha512 nor .sha1 exists`);
  const partial = join(settings.cacheDir, `.partial-${version}-${randomUUID().slice(0, 8)}`);
  try {
    mkdirSync(join(partial, 'home'), { recursive: true });
    writeFileSync(join(partial, 'tomcat.tar.gz'), archive);
    await runLogged('tar', ['-xzf', join(partial, 'tomcat.tar.gz'), '-C', join(partial, 'home'), '--strip-components=1', '--no-same-owner'], { cwd: partial, env: options.env, logFile: options.logFile, signal: options.signal });
    if (!isCatalinaHome(join(partial, 'home'))) throw new BuildError(`${redact(url)} is not a Tomcat distribution (no bin/bootstrap.jar after unpacking)`);
    // The archive's modes are owner-only (0640, 0750); replicas run as project users, read-only.
    await runLogged('chmod', ['-R', 'a+rX', join(partial, 'home')], { cwd: partial, env: options.env, logFile: options.logFile, signal: options.signal });
    try {
      renameSync(join(partial, 'home'), target);
    } catch (err) {
      // Another build (another OpenStage process on this data dir) put its copy first: use it.
      if (!isCatalinaHome(target)) throw new BuildError(`cannot place Tomcat ${version} in ${target}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  options.log(`Tomcat ${version} downloaded, verified and unpacked in ${Date.now() - started} ms`);
  return target;
}

/**
 * The body of an http(s) or file URL, or undefined when it does not exist (HTTP 404, no file).
 * @throws BuildError when unreachable, another HTTP status, or larger than `maxBytes`
 */
async function fetchBytes(url: string, maxBytes: number, signal: AbortSignal): Promise<Buffer | undefined> {
  let bytes: Buffer;
  if (url.startsWith('file://')) {
    try {
      bytes = readFileSync(fileURLToPath(url));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new BuildError(`cannot read ${url}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  } else if (/^https?:\/\//.test(url)) {
    const body = await httpGet(url, signal);
    if (!body) return undefined;
    bytes = body;
  } else {
    throw new BuildError(`deploy.tomcatUrl must be an http://, https:// or file:// URL, not ${redact(url)}`);
  }
  if (bytes.length > maxBytes) throw new BuildError(`${redact(url)} is larger than ${maxBytes} bytes`);
  return bytes;
}

/** Whether a Tomcat installation's jars and conf/ can be read by every user (a replica's). */
function worldReadable(home: string): boolean {
  try {
    return [join(home, 'bin'), join(home, 'bin', 'bootstrap.jar'), join(home, 'conf'), join(home, 'lib')].every((p) => (statSync(p).mode & 0o004) !== 0);
  } catch {
    return false;
  }
}

/** Removes partial downloads older than STALE_PARTIAL_MS (left by a build killed mid-way). */
function removeStalePartials(cacheDir: string): void {
  for (const name of readdirSync(cacheDir)) {
    if (!name.startsWith('.partial-')) continue;
    const path = join(cacheDir, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_PARTIAL_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // removed meanwhile
    }
  }
}

/**
 * The war of a Tomcat component in the artifact directory `dir`: the single `.war` at its
 * root (a package), else the single `.war` a Maven build left in `target/` (`built`).
 * @returns the war's path relative to `dir`
 * @throws BuildError naming what was found when there is no war or more than one
 */
export function findWar(dir: string, built: boolean): string {
  const folder = built ? join(dir, 'target') : dir;
  const entries = existsSync(folder) ? readdirSync(folder) : [];
  const wars = entries.filter((f) => f.toLowerCase().endsWith('.war'));
  if (wars.length === 1) return built ? join('target', wars[0]!) : wars[0]!;
  const where = built ? 'the Maven build left' : 'the package holds';
  if (wars.length > 1) throw new BuildError(`${where} ${wars.length} wars (${wars.join(', ')}); a Tomcat component deploys exactly one`);
  const found = entries.length ? entries.slice(0, 10).join(', ') + (entries.length > 10 ? ', …' : '') : 'nothing';
  throw new BuildError(`${where} no .war${built ? ' in target/ (is <packaging>war</packaging> set in pom.xml?)' : ''}; found: ${found}`);
}

/**
 * Prepares a replica's CATALINA_BASE in `base` (kept between restarts of the replica): conf/
 * copied from CATALINA_HOME with a logging.properties (everything on stdout, see
 * LOGGING_PROPERTIES) and a server.xml of OpenStage's own — one HTTP/1.1 connector on
 * `port` at the launch's address, the shutdown port disabled (-1; SIGTERM stops Tomcat through
 * its shutdown hook), no AJP connector, no auto-deploy, wars run without unpacking — and
 * webapps/ROOT.war = the artifact's war (so the application answers at `/`). `base`, conf/
 * and webapps/ belong to OpenStage (read-only to the replica, so that nothing the replica
 * leaves there is ever written through); logs/, temp/ and work/ are made by `ownDir`, the
 * replica's own.
 * @returns the JVM arguments that start Tomcat on that base (after the component's JVM options)
 * @throws BuildError when the artifact's war is a link leading outside the artifact
 */
export function prepareCatalinaBase(base: string, artifactDir: string, launch: TomcatLaunch, port: number, ownDir: (dir: string) => void = (d) => mkdirSync(d, { recursive: true })): string[] {
  for (const sub of ['conf', 'webapps']) mkdirSync(join(base, sub), { recursive: true, mode: 0o755 });
  for (const sub of ['logs', 'temp', 'work']) ownDir(join(base, sub));
  const conf = join(base, 'conf');
  if (!existsSync(join(conf, 'web.xml'))) cpSync(join(launch.home, 'conf'), conf, { recursive: true });
  // Tomcat's HostConfig wants conf/<engine>/<host>; made here since conf/ is not the replica's.
  mkdirSync(join(conf, 'Catalina', 'localhost'), { recursive: true, mode: 0o755 });
  writeFileSync(join(conf, 'server.xml'), serverXml(port, launch.address));
  writeFileSync(join(conf, 'logging.properties'), LOGGING_PROPERTIES);
  const war = join(base, 'webapps', 'ROOT.war');
  // Copied, not linked: a replica keeps running when its release's artifact is removed.
  if (!existsSync(war)) copyFileSync(insideDir(artifactDir, launch.war), war);
  const bin = join(launch.home, 'bin');
  return [
    // What catalina.sh adds on JDK 9+ for Tomcat's memory-leak protection.
    '--add-opens=java.base/java.lang=ALL-UNNAMED',
    '--add-opens=java.base/java.io=ALL-UNNAMED',
    '--add-opens=java.base/java.util=ALL-UNNAMED',
    '--add-opens=java.base/java.util.concurrent=ALL-UNNAMED',
    '--add-opens=java.rmi/sun.rmi.transport=ALL-UNNAMED',
    `-Djava.util.logging.config.file=${join(conf, 'logging.properties')}`,
    '-Djava.util.logging.manager=org.apache.juli.ClassLoaderLogManager',
    `-Dcatalina.home=${launch.home}`,
    `-Dcatalina.base=${base}`,
    `-Djava.io.tmpdir=${join(base, 'temp')}`,
    '-cp',
    `${join(bin, 'bootstrap.jar')}:${join(bin, 'tomcat-juli.jar')}`,
    'org.apache.catalina.startup.Bootstrap',
    'start',
  ];
}

/**
 * OpenStage's logging.properties for every replica: all of Tomcat's and the application's
 * java.util.logging output on stdout (the replica's log), none in files under logs/.
 * Tomcat's own file sends the `localhost` logger — where a servlet's or listener's failure
 * to start and ServletContext.log() land — only to logs/localhost.<date>.log, which neither
 * the logs API nor a failed rollout's log tail would show, and copies the rest to
 * logs/catalina.<date>.log, a second copy of stdout kept 90 days.
 */
const LOGGING_PROPERTIES = `# Written by OpenStage for this replica; rewritten at each start.
handlers = java.util.logging.ConsoleHandler
.handlers = java.util.logging.ConsoleHandler
java.util.logging.ConsoleHandler.level = ALL
java.util.logging.ConsoleHandler.formatter = org.apache.juli.OneLineFormatter
java.util.logging.ConsoleHandler.encoding = UTF-8
org.apache.catalina.core.ContainerBase.[Catalina].[localhost].level = INFO
`;

/** OpenStage's server.xml for one replica. */
function serverXml(port: number, address: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by OpenStage for this replica; rewritten at each start. -->
<Server port="-1" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.startup.VersionLoggerListener" />
  <Listener className="org.apache.catalina.core.JreMemoryLeakPreventionListener" />
  <Listener className="org.apache.catalina.core.ThreadLocalLeakPreventionListener" />
  <Service name="Catalina">
    <Connector address="${xmlAttr(address)}" port="${port}" protocol="HTTP/1.1" connectionTimeout="20000" />
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false" />
    </Engine>
  </Service>
</Server>
`;
}

function xmlAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
