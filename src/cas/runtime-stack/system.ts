import type { RuntimeStack } from './types.js';

/**
 * The system runtime stacks: built in, the same in every project, with stable ids; never
 * stored, never modified or deleted. Each names what OpenStage's runtimes really start:
 * `virtualmachine` stacks run as supervised processes on the OpenStage host (the process
 * runtime) with the tool found on the host's PATH; the Docker stack runs an image with the
 * host's container engine. `url` says which base each one uses (also answered by
 * GET /innerimages). `version` is the stack's own release, not the language version, as
 * in ServiceStage (the language version is in the name).
 */
const BASE = { projectId: '', system: true, status: 'Supported', creator: 'system', spec: {}, createdAtMs: 0, updatedAtMs: 0 } as const;

export const SYSTEM_STACKS: readonly RuntimeStack[] = Object.freeze([
  { ...BASE, id: '0a5e57ac-0000-4000-8000-000000000001', name: 'OpenJDK17', type: 'Java', version: '1.0.0', deployMode: 'virtualmachine', url: 'process://java?min=17', description: 'Runs a JAR with the JDK 17+ `java` on the host: java $JAVA_OPTS -jar app.jar' },
  { ...BASE, id: '0a5e57ac-0000-4000-8000-000000000002', name: 'Tomcat10-OpenJDK17', type: 'Tomcat', version: '1.0.0', deployMode: 'virtualmachine', url: 'process://catalina?tomcat=10&java=17', description: 'Runs a WAR as ROOT in Apache Tomcat 10 (downloaded once, or deploy.tomcatHome) with the JDK 17+ java on the host: a .war package or a Maven war project' },
  { ...BASE, id: '0a5e57ac-0000-4000-8000-000000000003', name: 'Nodejs20', type: 'Nodejs', version: '1.0.0', deployMode: 'virtualmachine', url: 'process://node?min=20', description: 'Runs a Node.js 20+ package with `node` on the host (npm start or the package main)' },
  { ...BASE, id: '0a5e57ac-0000-4000-8000-000000000004', name: 'Python3', type: 'Python', version: '1.0.0', deployMode: 'virtualmachine', url: 'process://python3', description: 'Runs a Python 3 program with `python3` on the host' },
  { ...BASE, id: '0a5e57ac-0000-4000-8000-000000000005', name: 'Go1', type: 'Go', version: '1.0.0', deployMode: 'virtualmachine', url: 'process://go?min=1.21', description: 'Builds Go 1.x source with `go build` on the host and runs the binary' },
  { ...BASE, id: '0a5e57ac-0000-4000-8000-000000000006', name: 'Docker', type: 'Docker', version: '1.0.0', deployMode: 'container', url: 'docker://localhost', description: "Runs a container image with the host's Docker engine" },
] satisfies RuntimeStack[]);

/** The system stack with `id`, or undefined. */
export function findSystemStack(id: string): RuntimeStack | undefined {
  return SYSTEM_STACKS.find((s) => s.id === id);
}
