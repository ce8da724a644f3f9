import { createHash, randomUUID } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { BuildError, redact, type Runner } from '../build/run.js';
import { isCatalinaHome } from '../build/tomcat.js';
import { MAX_PACKAGE_BYTES, MAX_UNPACKED_BYTES, runPackageWorker } from '../source.js';
import type { ComponentPlan } from '../types.js';

/**
 * What a runtime stack's `spec` (servicestage.md §6: `{sdk, os, parameters: {os_url, os_type,
 * jdk_url, tomcat_url}}`) means to the process runtime (issue #18 item 20):
 *
 * | spec | process runtime |
 * |---|---|
 * | `parameters.jdk_url` (Java, Tomcat) | the JDK the build (Maven) and the replicas run: JAVA_HOME, `java` |
 * | `parameters.tomcat_url` (Tomcat) | the Tomcat distribution (CATALINA_HOME) instead of `deploy.tomcat*` |
 * | `parameters.jdk_sha256` / `jdk_sha512`, `tomcat_sha256` / `tomcat_sha512` | the archive's checksum (else a `.sha512` / `.sha256` / `.sha256.txt` file beside it) |
 * | `parameters.os_url`, `os_type: custom`, `os` | not honoured: replicas run on this host's OS |
 * | `sdk` | informational |
 *
 * A tool is a .tar.gz or .zip at an http(s):// or file:// URL (file:// under
 * `deploy.sourceRoots`), fetched by the package worker confined like a build, as the
 * project's user; its checksum must match; it is unpacked, checked (no link or hard link
 * leading out of it; a JDK has bin/java, a Tomcat bin/bootstrap.jar, bin/tomcat-juli.jar and
 * conf/), made readable by every project user and renamed into
 * `<data>/deploy/tools/<kind>-<hash of the URL>` — cached per URL (per project for file://),
 * shared by builds and replicas, which see it read-only.
 */

/** A tool a stack spec asks for. */
export interface ToolRequest {
  kind: 'jdk' | 'tomcat';
  url: string;
  /** Expected hex digest from the stack's parameters, when given. */
  checksum?: string;
}

/** What a stack spec gives a process build: the tools to fetch and what cannot be honoured. */
export interface StackSpecReading {
  tools: ToolRequest[];
  /** Lines for the build task's messages. */
  notes: string[];
}

/** Parameters the process runtime reads, by name. */
const KNOWN = new Set(['jdk_url', 'tomcat_url', 'jdk_sha256', 'jdk_sha512', 'tomcat_sha256', 'tomcat_sha512', 'os_url', 'os_type']);

/**
 * Reads the spec of the plan's runtime stack for the process runtime.
 * @throws BuildError for a tool URL it cannot fetch (not http(s) or file://: obs:// included)
 */
export function readStackSpec(plan: ComponentPlan): StackSpecReading {
  const stack = plan.stack;
  if (!stack || stack.system) return { tools: [], notes: [] };
  const p = stack.spec.parameters ?? {};
  const label = `runtime stack ${stack.name}`;
  const notes: string[] = [];
  const tools: ToolRequest[] = [];
  const want = (kind: ToolRequest['kind'], stackTypes: string[]): void => {
    const url = p[`${kind}_url`]?.trim();
    if (!url) return;
    if (!stackTypes.includes(plan.stackType)) {
      notes.push(`${label}: parameters.${kind}_url is not used by a ${plan.stackType} component (only ${stackTypes.join(' and ')})`);
      return;
    }
    if (!/^(https?|file):\/\//i.test(url)) {
      throw new BuildError(`${label}: parameters.${kind}_url ${redact(url)} cannot be fetched by OpenStage: give an http://, https:// or file:// URL (file:// under deploy.sourceRoots)${/^obs:\/\//i.test(url) ? '; obs:// names Huawei Cloud object storage, which OpenStage does not reach' : ''}`);
    }
    const checksum = p[`${kind}_sha512`]?.trim() || p[`${kind}_sha256`]?.trim();
    tools.push({ kind, url, ...(checksum ? { checksum } : {}) });
  };
  want('jdk', ['Java', 'Tomcat']);
  want('tomcat', ['Tomcat']);
  if (p.os_url || p.os_type === 'custom' || stack.spec.os) {
    notes.push(`${label}: a custom OS (${[stack.spec.os ? `spec.os ${stack.spec.os}` : '', p.os_url ? `parameters.os_url ${redact(p.os_url)}` : '', p.os_type ? `os_type ${p.os_type}` : ''].filter(Boolean).join(', ')}) cannot be honoured by the process runtime: replicas run confined on this host's operating system; ignored`);
  }
  if (stack.spec.sdk) notes.push(`${label}: spec.sdk ${stack.spec.sdk} is informational here${['Java', 'Tomcat'].includes(plan.stackType) ? ' (the JDK is parameters.jdk_url\'s, else the host\'s java)' : ''}`);
  const unknown = Object.keys(p).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) notes.push(`${label}: parameters ${unknown.join(', ')} are not used by the process runtime; ignored`);
  return { tools, notes };
}

/** How ensureTool fetches: a confined runner that may write `dir`, and where the cache is. */
export interface ToolFetch {
  /** `<data>/deploy/tools`. */
  cacheRoot: string;
  project: string;
  /** Makes `dir` a fresh directory the project's user owns (the worker unpacks there). */
  ownedDir: (dir: string) => string;
  /** Runs the package worker confined, with `dir` writable. */
  runner: (dir: string) => Promise<Runner>;
  env: Record<string, string>;
  log(line: string): void;
}

/**
 * The directory of a tool, fetched, verified and cached on first use (see the table above).
 * @returns its absolute path (a JAVA_HOME or a CATALINA_HOME)
 * @throws BuildError naming the URL and the reason (unreachable, no or wrong checksum, not
 *   an archive, a link leading out, not a JDK / Tomcat)
 */
export async function ensureTool(tool: ToolRequest, fetch: ToolFetch): Promise<string> {
  const bare = redact(tool.url);
  const what = tool.kind === 'jdk' ? 'JDK' : 'Tomcat';
  const key = createHash('sha256').update(`${tool.kind}\n${bare}\n${bare.startsWith('file:') ? fetch.project : ''}\n${tool.checksum ?? ''}`).digest('hex').slice(0, 32);
  const target = join(fetch.cacheRoot, `${tool.kind}-${key}`);
  if (isTool(tool.kind, target)) {
    fetch.log(`${what} from ${bare} (cached)`);
    return target;
  }
  mkdirSync(fetch.cacheRoot, { recursive: true, mode: 0o711 });
  const partial = fetch.ownedDir(join(fetch.cacheRoot, `.partial-${tool.kind}-${randomUUID().slice(0, 8)}`));
  try {
    const sums = tool.checksum ? {} : { urls: [`${tool.url}.sha512`, `${tool.url}.sha256`, `${tool.url}.sha256.txt`] };
    const { digest } = await runPackageWorker({ url: tool.url, dir: partial, maxPackageBytes: MAX_PACKAGE_BYTES, maxUnpackedBytes: MAX_UNPACKED_BYTES, checksum: { ...(tool.checksum ? { expected: tool.checksum } : {}), ...sums } }, { env: fetch.env, run: await fetch.runner(partial), log: fetch.log });
    checkTree(partial, bare);
    if (!isTool(tool.kind, partial)) throw new BuildError(`${bare} is not a ${what} (${tool.kind === 'jdk' ? 'no bin/java' : 'no bin/bootstrap.jar, bin/tomcat-juli.jar and conf/'} at the top of the archive)`);
    try {
      renameSync(partial, target);
    } catch (err) {
      // Another build put its copy first: use it.
      if (!isTool(tool.kind, target)) throw new BuildError(`cannot place the ${what} in ${target}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    fetch.log(`${what} from ${bare} verified (${digest ?? 'checksum'}) and cached`);
    return target;
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}

/** Whether `dir` holds a tool of `kind`. */
function isTool(kind: ToolRequest['kind'], dir: string): boolean {
  if (kind === 'tomcat') return isCatalinaHome(dir);
  try {
    return statSync(join(dir, 'bin', 'java')).isFile();
  } catch {
    return false;
  }
}

/**
 * Checks an unpacked tool before OpenStage uses it (it copies Tomcat's conf/ as root): every
 * symbolic link leads inside it, no file has a second hard link (one could name a host file),
 * nothing but files, directories and links; then makes it readable (and its executables
 * runnable) by every user, for the replicas of every project that names the same URL.
 * @throws BuildError naming the offending entry
 */
function checkTree(root: string, url: string): void {
  const real = realpathSync(root);
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const st = lstatSync(path);
      const rel = path.slice(root.length + 1);
      if (st.isSymbolicLink()) {
        let to: string;
        try {
          to = realpathSync(path);
        } catch {
          continue; // leads nowhere
        }
        if (to !== real && !to.startsWith(real + sep)) throw new BuildError(`${url} holds a link leading out of it (${rel}); refused`);
      } else if (st.isDirectory()) {
        chmodSync(path, (st.mode & 0o7777) | 0o555);
        walk(path);
      } else if (st.isFile()) {
        if (st.nlink > 1) throw new BuildError(`${url} holds a hard link (${rel}); refused`);
        chmodSync(path, (st.mode & 0o7777) | 0o444 | (st.mode & 0o100 ? 0o111 : 0));
      } else {
        throw new BuildError(`${url} holds a special file (${rel}); refused`);
      }
    }
  };
  walk(root);
  chmodSync(root, 0o755);
}
