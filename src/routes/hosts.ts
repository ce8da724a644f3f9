import type { ExternalAccess, RoutableComponent } from './types.js';

/**
 * Host names and ports of routes (pure). A component's host is
 * `<component>.<application>.<domain>`, names lower-cased with `_` as `-` (DNS labels).
 */

/** A resource name as a DNS label. */
export function label(name: string): string {
  return name.toLowerCase().replace(/_/g, '-');
}

/** The host name part of a Host header (no port, lower case, no trailing dot); '' for an IPv6 literal. */
export function hostOf(header: string): string {
  if (header.charCodeAt(0) === 91) return '';
  const colon = header.indexOf(':');
  const name = colon < 0 ? header : header.slice(0, colon);
  return (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
}

/** True for an http or https access. */
export function isHttp(a: ExternalAccess): boolean {
  return /^https?$/i.test(a.protocol ?? '');
}

/** The host name an http(s) access's address names (`shop.example.com`, `http://shop.example.com/x`), or undefined for none or an IP. */
export function accessHost(a: ExternalAccess): string | undefined {
  if (!a.address) return undefined;
  const host = hostOf(a.address.replace(/^[a-z]+:\/\//i, '').split('/')[0] ?? '');
  if (!host.includes('.') || /^[0-9.]+$/.test(host) || !/^[a-z0-9.-]+$/.test(host)) return undefined;
  return host;
}

/** The port a TCP access's address names (`:31001`, `0.0.0.0:31001`, `tcp://host:31001`), or undefined. */
export function accessTcpPort(a: ExternalAccess): number | undefined {
  if (!/^tcp$/i.test(a.protocol ?? '')) return undefined;
  const m = /:(\d{1,5})\/?$/.exec(a.address ?? '');
  const port = m ? Number(m[1]) : NaN;
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** Hosts given to components: the primary one and aliases (custom hosts of external accesses). */
export interface HostAssignment {
  primary: Map<string, string>;
  aliases: Map<string, string[]>;
}

/**
 * Gives each routed component one host under `domain`, oldest component first (then by id):
 * `<component>.<application>.<domain>`; when an older component holds it (the same names in
 * another environment or project, or names that differ only in case or `_`/`-`),
 * `<component>.<environment>.<application>.<domain>`, else `<component>-<id prefix>.<application>.<domain>`.
 * Custom hosts named by http(s) accesses go to the first component naming them.
 * @param routed whether a component gets a host-name route at all
 * @returns key (`project/componentId`) → host, and key → alias hosts
 */
export function assignHosts(components: RoutableComponent[], domain: string, routed: (c: RoutableComponent) => boolean): HostAssignment {
  const d = domain.toLowerCase();
  const taken = new Set<string>();
  const primary = new Map<string, string>();
  const aliases = new Map<string, string[]>();
  const ordered = [...components].sort((a, b) => a.createdAtMs - b.createdAtMs || (a.componentId < b.componentId ? -1 : a.componentId > b.componentId ? 1 : 0));
  for (const c of ordered) {
    if (!routed(c)) continue;
    const [comp, app, env] = [label(c.name), label(c.applicationName), label(c.environmentName)];
    const candidates = [`${comp}.${app}.${d}`, ...(env ? [`${comp}.${env}.${app}.${d}`] : []), `${comp}-${c.componentId.slice(0, 8).toLowerCase()}.${app}.${d}`];
    const host = candidates.find((h) => !taken.has(h));
    if (!host) continue;
    taken.add(host);
    primary.set(`${c.project}/${c.componentId}`, host);
  }
  for (const c of ordered) {
    const k = `${c.project}/${c.componentId}`;
    if (!primary.has(k)) continue;
    for (const a of c.externalAccesses.filter(isHttp)) {
      const h = accessHost(a);
      if (!h || taken.has(h)) continue;
      taken.add(h);
      aliases.set(k, [...(aliases.get(k) ?? []), h]);
    }
  }
  return { primary, aliases };
}
