/** The created resource a provider works on, with the project and user it acts for. */
export interface IacTarget {
  id: string;
  name: string;
  /** IAM project of the environment. */
  project: string;
  /** User name recorded on what the provider makes (the caller of the provisioning). */
  user: string;
}

/**
 * A built-in provider of created (IaC) resources (servicestage.md §2 "Enable created
 * resources"): it makes the real resource and destroys it. Providers run outside any
 * database transaction; their state (what exists, with its credentials) is sealed at rest by
 * the caller.
 */
export interface IacProvider {
  /** The resource type it serves (`rds`, `cse`). */
  readonly type: string;
  /**
   * Checks a resource's variables (vars_body merged with vars_structure).
   * @returns an error message naming the bad variable, or undefined when they are fine
   */
  check(vars: Record<string, string>): string | undefined;
  /**
   * What the resource's identity would be for these variables; a change means the real
   * resource is replaced on the next provisioning.
   */
  identity(resource: { id: string; name: string }, vars: Record<string, string>): string;
  /** The identity of what a state describes (compared with `identity`). */
  stateIdentity(state: Record<string, string>): string;
  /**
   * Makes the real resource exist (idempotent: an existing one is kept and its credentials
   * re-applied from `previous`).
   * @returns the state to keep: string parameters as a binding exposes them
   * @throws Error with a clear message when it cannot
   */
  apply(resource: IacTarget, vars: Record<string, string>, previous: Record<string, string> | undefined): Promise<{ resourceId: string; state: Record<string, string> }>;
  /**
   * Destroys the real resource described by `state` that this resource made (idempotent;
   * what it did not make is left alone). @throws Error when it cannot
   */
  destroy(resource: IacTarget, state: Record<string, string>): Promise<void>;
}
