import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROCESS_STACKS as PROCESS_STACK_TYPES } from '../runtime.js';
import { BuildError, insideDir, type Runner } from './run.js';
import { ensureTomcatHome, findWar, type TomcatLaunch, type TomcatSettings } from './tomcat.js';

/** How to start a built artifact: argv run in the artifact directory (no shell). */
export interface LaunchSpec {
  command: string;
  args: string[];
  /**
   * Tomcat stack: the war runs in Tomcat; each replica gets its own CATALINA_BASE and the
   * Tomcat start arguments after `args` (the JVM options), see prepareCatalinaBase.
   */
  tomcat?: TomcatLaunch;
}

/** What a stack builder gets. */
export interface BuildContext {
  /** The artifact directory: the source is already here and the build happens in place. */
  dir: string;
  /** Runs a build command confined (working directory `dir` unless given), logged to the build log. */
  run: Runner;
  /** Build log file (appended). */
  logFile: string;
  signal: AbortSignal;
  /** Environment of the trusted steps OpenStage runs itself (the Tomcat download). */
  env: Record<string, string>;
  /** A progress line for the task messages. */
  log(line: string): void;
  /** `jvm_opts` of the component, split on spaces (Java and Tomcat). */
  jvmOpts?: string[];
  /** Where the Tomcat distribution comes from (Tomcat only; required for it). */
  tomcat?: TomcatSettings;
}


/**
 * Builds the source in `ctx.dir` for a runtime stack type and says how to start it
 * (DESIGN.md "Deployments": build per runtime stack).
 * - Nodejs: `npm ci` with a lockfile (else `npm install`), then `npm run build --if-present`;
 *   started with `npm start` when package.json has a start script, else `node <main>`.
 * - Java: a `.jar` is run as is (`java <jvm_opts> -jar`); a Maven project is built with
 *   `mvn -q -B package -DskipTests` and its executable jar run.
 * - Tomcat: a `.war` is deployed as is; a Maven project is built the same way and the single
 *   war in target/ deployed; the Tomcat distribution is made available (tomcat.ts) and each
 *   replica runs `java <jvm_opts> … org.apache.catalina.startup.Bootstrap start` with the war
 *   as ROOT.
 * - Python: a venv in `.venv`, `pip install -r requirements.txt` when it lists anything;
 *   started with `.venv/bin/python` on app.py, main.py or server.py.
 * - Go: `go build -o app .`; started as `./app`.
 * @throws BuildError naming what is missing or which command failed (with the log's tail)
 */
export async function buildForStack(type: string, ctx: BuildContext): Promise<LaunchSpec> {
  switch (type) {
    case 'Nodejs':
      return buildNode(ctx);
    case 'Java':
      return buildJava(ctx);
    case 'Tomcat':
      return buildTomcat(ctx);
    case 'Python':
      return buildPython(ctx);
    case 'Go':
      return buildGo(ctx);
    case 'Docker':
      throw new BuildError('runtime stack Docker runs on the container runtime, not the process runtime');
    default:
      throw new BuildError(`runtime stack type '${type}' cannot be built here; supported: ${PROCESS_STACK_TYPES.join(', ')}`);
  }
}

async function buildNode(ctx: BuildContext): Promise<LaunchSpec> {
  const pkgFile = join(ctx.dir, 'package.json');
  if (!existsSync(pkgFile)) throw new BuildError('a Nodejs component needs a package.json at the root of its source');
  let pkg: { main?: string; scripts?: Record<string, string> };
  try {
    pkg = JSON.parse(readFileSync(insideDir(ctx.dir, 'package.json'), 'utf8')) as typeof pkg;
  } catch (err) {
    throw new BuildError(`package.json is not valid JSON: ${(err as Error).message}`);
  }
  const locked = existsSync(join(ctx.dir, 'package-lock.json')) || existsSync(join(ctx.dir, 'npm-shrinkwrap.json'));
  ctx.log(locked ? 'npm ci' : 'npm install (no lockfile)');
  await ctx.run('npm', [locked ? 'ci' : 'install', '--no-audit', '--no-fund']);
  if (pkg.scripts?.build) {
    ctx.log('npm run build');
    await ctx.run('npm', ['run', 'build']);
  }
  if (pkg.scripts?.start) return { command: 'npm', args: ['start', '--silent'] };
  const main = pkg.main ?? (existsSync(join(ctx.dir, 'server.js')) ? 'server.js' : 'index.js');
  if (!existsSync(join(ctx.dir, main))) throw new BuildError(`nothing to start: package.json has no start script and ${main} does not exist`);
  return { command: 'node', args: [main] };
}

async function buildJava(ctx: BuildContext): Promise<LaunchSpec> {
  const jvm = ctx.jvmOpts ?? [];
  const jars = readdirSync(ctx.dir).filter((f) => f.endsWith('.jar'));
  if (jars.length === 1) return { command: 'java', args: [...jvm, '-jar', jars[0]!] };
  if (existsSync(join(ctx.dir, 'pom.xml'))) {
    ctx.log('mvn -q -B package -DskipTests');
    await ctx.run('mvn', ['-q', '-B', 'package', '-DskipTests']);
    const target = join(ctx.dir, 'target');
    const built = existsSync(target) ? readdirSync(target).filter((f) => f.endsWith('.jar') && !/-(sources|javadoc|tests)\.jar$/.test(f) && !f.startsWith('original-')) : [];
    if (built.length === 0) throw new BuildError('the Maven build produced no jar in target/');
    const largest = built.sort((a, b) => statSync(join(target, b)).size - statSync(join(target, a)).size)[0]!;
    return { command: 'java', args: [...jvm, '-jar', join('target', largest)] };
  }
  if (jars.length > 1) throw new BuildError(`the package holds ${jars.length} jars (${jars.join(', ')}); deploy one executable jar`);
  throw new BuildError('a Java component needs an executable .jar or a Maven project (pom.xml)');
}

async function buildTomcat(ctx: BuildContext): Promise<LaunchSpec> {
  if (!ctx.tomcat) throw new BuildError('the Tomcat runtime is not configured');
  const hasWar = readdirSync(ctx.dir).some((f) => f.toLowerCase().endsWith('.war'));
  let war: string;
  if (!hasWar && existsSync(join(ctx.dir, 'pom.xml'))) {
    ctx.log('mvn -q -B package -DskipTests');
    await ctx.run('mvn', ['-q', '-B', 'package', '-DskipTests']);
    war = findWar(ctx.dir, true);
  } else if (hasWar) {
    war = findWar(ctx.dir, false);
  } else {
    throw new BuildError('a Tomcat component needs a .war package or a Maven project (pom.xml) that packages a war');
  }
  ctx.log(`war ${war}`);
  const home = await ensureTomcatHome(ctx.tomcat, { env: ctx.env, logFile: ctx.logFile, signal: ctx.signal, log: ctx.log });
  return { command: 'java', args: [...(ctx.jvmOpts ?? [])], tomcat: { home, war, address: ctx.tomcat.address } };
}

async function buildPython(ctx: BuildContext): Promise<LaunchSpec> {
  const entry = ['app.py', 'main.py', 'server.py'].find((f) => existsSync(join(ctx.dir, f)));
  if (!entry) throw new BuildError('a Python component needs app.py, main.py or server.py at the root of its source');
  ctx.log('python3 -m venv .venv');
  await ctx.run('python3', ['-m', 'venv', '.venv']);
  const requirements = join(ctx.dir, 'requirements.txt');
  if (existsSync(requirements) && readFileSync(insideDir(ctx.dir, 'requirements.txt'), 'utf8').split('\n').some((l) => l.trim() && !l.trim().startsWith('#'))) {
    ctx.log('pip install -r requirements.txt');
    await ctx.run(join(ctx.dir, '.venv', 'bin', 'pip'), ['install', '-q', '--disable-pip-version-check', '-r', 'requirements.txt']);
  }
  return { command: join('.venv', 'bin', 'python'), args: ['-u', entry] };
}

async function buildGo(ctx: BuildContext): Promise<LaunchSpec> {
  if (!existsSync(join(ctx.dir, 'go.mod'))) throw new BuildError('a Go component needs a go.mod at the root of its source');
  ctx.log('go build -o app .');
  await ctx.run('go', ['build', '-o', 'app', '.']);
  return { command: './app', args: [] };
}
