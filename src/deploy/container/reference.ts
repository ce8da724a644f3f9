/**
 * OCI image references as Docker and podman read them: `[registry/]path[:tag][@digest]`,
 * where the first path component is a registry when it holds a `.` or a `:` or is
 * `localhost`, and a reference without one names Docker Hub (`nginx` = docker.io/library/nginx).
 * SWR names (`swr.cn-north-4.myhuaweicloud.com/org/image:tag`) are ordinary references.
 */

/** A parsed image reference. */
export interface ImageReference {
  /** `host[:port]`; `docker.io` when the reference names none. */
  registry: string;
  /** Repository path inside the registry, e.g. `library/nginx`, `org/app`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>` when pinned. */
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const REGISTRY = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * Parses an image reference.
 * @returns the parts, or undefined when `ref` is not a valid reference (upper case in the
 *   path, an empty component, a bad tag or digest, over 255 characters of name)
 */
export function parseImageReference(ref: string): ImageReference | undefined {
  let rest = ref.trim();
  if (rest === '' || rest !== ref) return undefined;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return undefined;
  }
  const parts = rest.split('/');
  let registry = 'docker.io';
  if (parts.length > 1 && (parts[0]!.includes('.') || parts[0]!.includes(':') || parts[0] === 'localhost')) {
    registry = parts.shift()!;
    if (!REGISTRY.test(registry)) return undefined;
  }
  if (parts.length === 0 || !parts.every((p) => COMPONENT.test(p))) return undefined;
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  const repository = parts.join('/');
  if (registry.length + 1 + repository.length > 255) return undefined;
  return { registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** The full name of a parsed reference (`registry/repository[:tag][@digest]`), `:latest` when it has neither. */
export function formatImageReference(ref: ImageReference): string {
  const tag = ref.tag ?? (ref.digest ? undefined : 'latest');
  return `${ref.registry}/${ref.repository}${tag !== undefined ? `:${tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/**
 * One path component of a local image name made from a ServiceStage name (application and
 * component names may hold upper case and characters a repository may not): lower case, each
 * run of other characters becomes `-`, trimmed of `-`; `x` when nothing is left.
 */
export function repositoryComponent(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return s === '' ? 'x' : s;
}

/** A version as an image tag: characters a tag may not hold become `_`; at most 128 characters. */
export function versionTag(version: string): string {
  const s = version.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[.-]/, '_').slice(0, 128);
  return s === '' ? '_' : s;
}
