import type { SecretBox } from '../../core/secrets.js';
import { casError } from '../errors.js';
import type { ResourceBodyWire } from './schemas.js';
import { RESOURCE_TYPES, SECRET_MASK, type StoredResource } from './types.js';

/**
 * Managed resources (servicestage.md §2 "Modify env resource"): what each type needs, and
 * the sealing of secret parameters. In OpenStage a managed resource binds real
 * infrastructure, so each type names the parameters that reach it.
 */

/** Parameters each type requires (all strings). `ecs` needs a host unless it is `local`. */
const REQUIRED: Record<string, readonly string[]> = {
  cse: [],
  ecs: [],
  cce: ['kubeconfig'],
  custom_k8s: ['kubeconfig'],
  rds: ['host', 'port', 'db_type', 'db_name', 'db_user', 'password'],
  dcs: ['host', 'port'],
  swr: ['server'],
};

/** Parameter names whose values are secrets: sealed at rest, masked on the wire. */
const SECRET_KEY = /password|passwd|passphrase|pwd|secret|token|kubeconfig|private_?key|credential|api_?key|^sk$/i;

/** True when a parameter's value is a secret. */
export function isSecretParameter(key: string): boolean {
  return SECRET_KEY.test(key);
}

function checkPort(where: string, value: string): void {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw casError('InvalidParameter', `${where}.parameters.port must be a port number (1-65535), not '${value}'`);
}

/**
 * Validates a new managed resource list and seals its secrets. A secret parameter resent as
 * the mask (`******`) keeps the value stored for the same resource (type and id) in
 * `previous`.
 * @throws casError InvalidParameter naming the resource and the missing or bad parameter,
 *   or listing the supported types for an unknown one
 */
export function prepareResources(items: readonly ResourceBodyWire[], previous: readonly StoredResource[], secrets: SecretBox): StoredResource[] {
  const seen = new Set<string>();
  return items.map((item, i) => {
    const where = `resources[${i}]`;
    if (!(RESOURCE_TYPES as readonly string[]).includes(item.type)) {
      throw casError('InvalidParameter', `${where}.type '${item.type}' is not supported; supported types: ${RESOURCE_TYPES.join(', ')}`);
    }
    const key = `${item.type}/${item.id}`;
    if (seen.has(key)) throw casError('InvalidParameter', `${where} repeats the ${item.type} resource ${item.id}`);
    seen.add(key);
    const before = previous.find((p) => p.type === item.type && p.id === item.id);
    const parameters: Record<string, string> = {};
    const sealedParameters: Record<string, string> = {};
    const present = new Set<string>();
    for (const [name, value] of Object.entries(item.parameters ?? {})) {
      if (value !== '') present.add(name);
      if (!isSecretParameter(name)) parameters[name] = value;
      else if (value !== SECRET_MASK) sealedParameters[name] = secrets.encrypt(value);
      else if (before?.sealedParameters[name]) sealedParameters[name] = before.sealedParameters[name];
      else throw casError('InvalidParameter', `${where}.parameters.${name} is the mask '${SECRET_MASK}' but no value is stored for it`);
    }
    const required = [...REQUIRED[item.type]!, ...(item.type === 'ecs' && item.id !== 'local' ? ['host'] : [])];
    for (const name of required) {
      if (!present.has(name)) throw casError('InvalidParameter', `${where}.parameters.${name} is required for a ${item.type} resource`);
    }
    if (parameters.port !== undefined) checkPort(where, parameters.port);
    if (item.type === 'rds' && parameters.db_type !== 'postgresql' && parameters.db_type !== 'mysql') {
      throw casError('InvalidParameter', `${where}.parameters.db_type must be postgresql or mysql, not '${parameters.db_type}'`);
    }
    return { id: item.id, type: item.type, name: item.name ?? '', alias: item.alias ?? '', parameters, sealedParameters };
  });
}

/** A stored resource's parameters with its secrets decrypted (for the deployment engine only). */
export function openParameters(r: StoredResource, secrets: SecretBox): Record<string, string> {
  const out: Record<string, string> = { ...r.parameters };
  for (const [name, sealed] of Object.entries(r.sealedParameters)) out[name] = secrets.decrypt(sealed);
  return out;
}
