import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where OpenStage's podman keeps its configuration and state, and how it is configured.
 * Nothing under /etc is read for these settings or written: podman is pointed at OpenStage's
 * own files through CONTAINERS_CONF, CONTAINERS_STORAGE_CONF and CONTAINERS_REGISTRIES_CONF.
 */
export interface PodmanSetup {
  /**
   * Directory of OpenStage's container engine (e.g. `<dataDir>/containers`): the three
   * configuration files, `storage/` (images, containers: the graph root), `networks/`, `tmp/`
   * (build contexts, short-lived private files).
   */
  dir: string;
  /**
   * podman's run-time state (run root, locks, events). podman refuses a run root over 50
   * characters in the clean-up command it leaves with each container, so the default is
   * `<dir>/run` when `<dir>/run/storage` is short enough, else `/run/openstage-<hash of dir>`
   * as root and `<os temp dir>/openstage-<uid>-<hash>` otherwise.
   */
  runDir?: string;
  /** Registries (`host[:port]`) reached without TLS verification (or over plain HTTP). */
  insecureRegistries?: string[];
  /** Registries tried for a short name such as `nginx:1.25` (default: docker.io, as Docker does). */
  searchRegistries?: string[];
  /** Most bytes kept of one container's log (podman truncates beyond); default 10 MiB. */
  logSizeMaxBytes?: number;
}

/** The environment every podman process of a setup runs with (besides PATH). */
export interface PodmanEnv {
  CONTAINERS_CONF: string;
  CONTAINERS_STORAGE_CONF: string;
  CONTAINERS_REGISTRIES_CONF: string;
  /** Build contexts and image copies go here, not to /var/tmp. */
  TMPDIR: string;
}

/** Longest run root podman accepts in a container's clean-up command. */
const MAX_RUN_ROOT = 50;

/** Paths of a setup's parts. */
export function podmanPaths(setup: Pick<PodmanSetup, 'dir' | 'runDir'>): { storage: string; run: string; tmp: string; networks: string; bootId: string } {
  const hash = createHash('sha256').update(setup.dir).digest('hex').slice(0, 12);
  const uid = process.getuid?.() ?? 0;
  const beside = join(setup.dir, 'run');
  const run = setup.runDir ?? (join(beside, 'storage').length <= MAX_RUN_ROOT ? beside : uid === 0 ? join('/run', `openstage-${hash}`) : join(tmpdir(), `openstage-${uid}-${hash}`));
  return { storage: join(setup.dir, 'storage'), run, tmp: join(setup.dir, 'tmp'), networks: join(setup.dir, 'networks'), bootId: join(setup.dir, 'boot-id') };
}

/** A TOML basic string (quotes and backslashes escaped). */
function tomlString(s: string): string {
  return JSON.stringify(s);
}

/** A TOML array of basic strings. */
function tomlArray(items: string[]): string {
  return `[${items.map(tomlString).join(', ')}]`;
}

const REGISTRY_PATTERN = /^[A-Za-z0-9.-]+(:[0-9]{1,5})?$/;

/**
 * Writes OpenStage's containers.conf, storage.conf and registries.conf into `setup.dir`
 * (rewritten at every start, so a change of OpenStage's settings applies) and returns the
 * environment that makes podman use them.
 *
 * - containers.conf: runtime runc (crun 1.8 fails on hybrid cgroup v1 hosts), cgroup_manager
 *   cgroupfs (no systemd needed), events_logger file, ulimits nofile=20000:20000 and
 *   nproc=32768:32768 (podman's defaults copy the server's, which are far higher), file locks
 *   and tmp_dir under `runDir` (so two setups on one host never share lock numbers or state),
 *   logs in k8s-file format capped at `logSizeMaxBytes`, networks defined under `networks/`.
 * - storage.conf: the overlay driver with graph root `storage/` and run root `<runDir>/storage`.
 * - registries.conf: the search registries for short names and the insecure ones.
 *
 * The run-time state (`runDir`) must not survive a reboot (podman assumes a tmpfs): when the
 * kernel's boot id differs from the one recorded at the previous start, it is emptied first,
 * so podman refreshes its state and sees every container as stopped.
 * @throws Error naming the entry when a registry of `insecureRegistries`/`searchRegistries` is
 *   not `host[:port]`, or when the run root would be longer than podman accepts
 */
export function writePodmanConfig(setup: PodmanSetup): PodmanEnv {
  const paths = podmanPaths(setup);
  const runRoot = join(paths.run, 'storage');
  if (runRoot.length > MAX_RUN_ROOT) throw new Error(`podman's run root '${runRoot}' is longer than ${MAX_RUN_ROOT} characters, which podman refuses: choose a shorter run directory`);
  const insecure = setup.insecureRegistries ?? [];
  const search = setup.searchRegistries ?? ['docker.io'];
  for (const r of [...insecure, ...search]) if (!REGISTRY_PATTERN.test(r)) throw new Error(`registry '${r}' is not host[:port]`);
  mkdirSync(setup.dir, { recursive: true, mode: 0o700 });
  resetRunDirAfterReboot(paths.run, paths.bootId);
  for (const d of [paths.storage, paths.run, paths.tmp, paths.networks]) mkdirSync(d, { recursive: true, mode: 0o700 });

  const containersConf = [
    '# Written by OpenStage at every start; edits are lost.',
    '[containers]',
    `default_ulimits = ${tomlArray(['nofile=20000:20000', 'nproc=32768:32768'])}`,
    'log_driver = "k8s-file"',
    `log_size_max = ${setup.logSizeMaxBytes ?? 10 * 1024 * 1024}`,
    '',
    '[network]',
    `network_config_dir = ${tomlString(paths.networks)}`,
    '',
    '[engine]',
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    `events_logfile_path = ${tomlString(join(paths.run, 'events.log'))}`,
    'lock_type = "file"',
    `tmp_dir = ${tomlString(join(paths.run, 'libpod'))}`,
    `volume_path = ${tomlString(join(paths.storage, 'volumes'))}`,
    '',
  ].join('\n');
  const storageConf = [
    '# Written by OpenStage at every start; edits are lost.',
    '[storage]',
    'driver = "overlay"',
    `graphroot = ${tomlString(paths.storage)}`,
    `runroot = ${tomlString(runRoot)}`,
    '',
  ].join('\n');
  const registriesConf = [
    '# Written by OpenStage at every start; edits are lost.',
    `unqualified-search-registries = ${tomlArray(search)}`,
    'short-name-mode = "permissive"',
    ...insecure.flatMap((r) => ['', '[[registry]]', `location = ${tomlString(r)}`, 'insecure = true']),
    '',
  ].join('\n');
  const files = { containers: join(setup.dir, 'containers.conf'), storage: join(setup.dir, 'storage.conf'), registries: join(setup.dir, 'registries.conf') };
  writeFileSync(files.containers, containersConf, { mode: 0o600 });
  writeFileSync(files.storage, storageConf, { mode: 0o600 });
  writeFileSync(files.registries, registriesConf, { mode: 0o600 });
  return { CONTAINERS_CONF: files.containers, CONTAINERS_STORAGE_CONF: files.storage, CONTAINERS_REGISTRIES_CONF: files.registries, TMPDIR: paths.tmp };
}

/** Empties `runDir` when the boot id recorded in `bootIdFile` is not the running kernel's. */
function resetRunDirAfterReboot(runDir: string, bootIdFile: string): void {
  let current: string;
  try {
    current = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return; // no boot id to compare (not Linux): keep the state
  }
  let recorded = '';
  try {
    recorded = readFileSync(bootIdFile, 'utf8').trim();
  } catch {
    // first start
  }
  if (recorded === current) return;
  if (recorded !== '') rmSync(runDir, { recursive: true, force: true });
  writeFileSync(bootIdFile, `${current}\n`, { mode: 0o600 });
}
