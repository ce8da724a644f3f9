import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/core/config.js';
import { ensureTomcatHome } from '../../src/deploy/build/tomcat.js';
import { fixtureDir } from './server.js';

/**
 * Helpers of the Tomcat tests: one Tomcat distribution for every test file and run (downloaded
 * from the configured default URL — Maven Central — into a cache under the OS temp dir on first
 * use, verified against its checksum, then reused like ~/.m2), the example war built once per
 * process, and git repositories of example folders.
 */

const EXAMPLES = resolve(new URL('../../../examples', import.meta.url).pathname);
const HOST_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };

let home: Promise<string> | undefined;
let war: Promise<string> | undefined;

/**
 * A CATALINA_HOME of the default `deploy.tomcatVersion`, shared by the test files (pass it as
 * `deploy.tomcatHome`). The first call on a machine downloads it (the same code path a build
 * takes); a concurrent test process waits for nothing: the cache's rename keeps one copy.
 */
export function sharedTomcatHome(): Promise<string> {
  const defaults = loadConfig({ overrides: {} }).deploy;
  const cacheDir = join(tmpdir(), 'openstage-test-tomcat');
  mkdirSync(cacheDir, { recursive: true });
  home ??= ensureTomcatHome(
    { home: '', version: defaults.tomcatVersion, baseUrl: defaults.tomcatUrl, cacheDir, address: '127.0.0.1' },
    { env: HOST_ENV, logFile: join(cacheDir, 'download.log'), signal: new AbortController().signal, log: () => undefined },
  );
  return home;
}

/** examples/tomcat-hello built once per process with Maven. @returns the war's absolute path */
export function tomcatHelloWar(): Promise<string> {
  war ??= Promise.resolve().then(async () => {
    const dir = fixtureDir(undefined, 'war-');
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    cpSync(join(EXAMPLES, 'tomcat-hello'), dir, { recursive: true });
    await promisify(execFile)('mvn', ['-q', '-B', 'package', '-DskipTests'], { cwd: dir, env: HOST_ENV });
    const file = join(dir, 'target', 'tomcat-hello.war');
    if (!existsSync(file)) throw new Error('the tomcat-hello build left no war');
    return file;
  });
  return war;
}

/** A file:// git repository (branch main) holding a copy of examples/<folder>, removed after the test. */
export function exampleRepo(t: TestContext, folder: string): string {
  const dir = fixtureDir(t, 'repo-');
  cpSync(join(EXAMPLES, folder), dir, { recursive: true, filter: (src) => !src.includes(`${folder}/target`) });
  const env = { ...HOST_ENV, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' };
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir, env });
  execFileSync('git', ['add', '.'], { cwd: dir, env });
  execFileSync('git', ['commit', '-q', '-m', 'first'], { cwd: dir, env });
  return pathToFileURL(dir).toString();
}
