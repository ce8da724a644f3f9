/**
 * Domain types of runtime (technology) stacks (servicestage.md §6). Times are epoch
 * milliseconds.
 */

/** Where a stack runs: a supervised process on the host, or a container. */
export type DeployMode = 'virtualmachine' | 'container';

/** The stack types OpenStage can run. */
export const STACK_TYPES = ['Java', 'Tomcat', 'Nodejs', 'Python', 'Go', 'Docker'] as const;
export type StackType = (typeof STACK_TYPES)[number];

/** Supported (released), Deprecated, Disable (not released). */
export type StackStatus = 'Supported' | 'Deprecated' | 'Disable';

/** `spec` of a stack: tool package, OS and image parameters (all free text). */
export interface StackSpec {
  sdk?: string;
  os?: string;
  parameters?: Record<string, string>;
}

/** A runtime stack, system or custom. */
export interface RuntimeStack {
  id: string;
  /** "" for system stacks (they belong to no project). */
  projectId: string;
  name: string;
  deployMode: DeployMode;
  type: StackType;
  version: string;
  spec: StackSpec;
  description: string;
  /** True for the built-in stacks. */
  system: boolean;
  status: StackStatus;
  creator: string;
  /** What the stack runs on (see system.ts); "" for custom stacks. */
  url: string;
  createdAtMs: number;
  updatedAtMs: number;
}

/** A stack as answered: with the number of components that run on it. */
export interface RuntimeStackView extends RuntimeStack {
  componentCount: number;
}

/** Fields of a create call. */
export interface RuntimeStackCreate {
  name: string;
  deploy_mode: DeployMode;
  type: StackType;
  version: string;
  spec?: StackSpec;
  description?: string;
}

/** Fields of a modify call; absent means unchanged. */
export type RuntimeStackUpdate = Partial<RuntimeStackCreate>;
