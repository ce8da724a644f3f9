/**
 * Variable substitution in config files (servicestage.md §7, UM:0316; pitfalls.md
 * "Variable substitution leaves everything else alone").
 *
 * Syntax (OpenStage's own; the real delimiter is not verified): `${NAME}` where NAME is one
 * of SYSTEM_VARIABLES is replaced by its value when the deployment engine mounts the file.
 * Everything else passes through byte for byte: a lone `$`, `$$`, `$NAME` without braces,
 * `${name_not_in_the_list}`, `${NAME:-default}`, quotes, bcrypt hashes (`$2b$10$…`),
 * JSON, YAML anchors and aliases, and a system variable with no value given. The escape
 * `$${NAME}` (NAME in the list) renders as the literal text `${NAME}`. Values are inserted
 * as they are and never scanned again.
 */

/** The system variables a config file may reference (servicestage.md §7). */
export const SYSTEM_VARIABLES: readonly string[] = Object.freeze([
  'PAAS_PROJECT_ID',
  'PAAS_PROJECT_NAME',
  'PAAS_REGION_NAME',
  'CAS_ENVIRONMENT_ID',
  'CAS_ENVIRONMENT_NAME',
  'CAS_APPLICATION_ID',
  'CAS_APPLICATION_NAME',
  'CAS_COMPONENT_ID',
  'CAS_INSTANCE_ID',
  'CAS_INSTANCE_NAME',
  'CAS_INSTANCE_VERSION',
  'AOM_DISCOVERY_RULE_VERSION',
  'PAAS_CSE_CC_ENDPOINT',
  'PAAS_CSE_SC_ENDPOINT',
  ...['PASSWORD', 'TYPE', 'PORT', 'HOST', 'VERSION', 'CLUSTER'].map((s) => `DISTRIBUTED_CACHE_${s}`),
  ...['PASSWORD', 'DB_TYPE', 'JNDI_NAME', 'HOST', 'CONNECTION_TYPE', 'DB_NAME', 'DB_USER', 'PORT', 'NAME', 'VERSION'].map((s) => `RELATIONAL_DATABASE_${s}`),
]);

const KNOWN = new Set(SYSTEM_VARIABLES);
/** `$${NAME}` (escape) or `${NAME}`; NAME checked against KNOWN in the replacer. */
const PLACEHOLDER = /\$(\$?)\{([A-Z][A-Z0-9_]*)\}/g;

/**
 * Replaces `${NAME}` placeholders of system variables in `content` with `variables[NAME]`.
 * Pure: no I/O, the same input always gives the same output.
 * @param variables system variable values; names outside SYSTEM_VARIABLES are ignored, and a
 *   system variable absent here leaves its placeholder as it is
 */
export function renderConfig(content: string, variables: Readonly<Record<string, string>>): string {
  return content.replace(PLACEHOLDER, (match: string, escape: string, name: string) => {
    if (!KNOWN.has(name)) return match;
    if (escape) return match.slice(1);
    return Object.hasOwn(variables, name) ? variables[name]! : match;
  });
}
