/**
 * Domain types of the ServiceStage v2 API (src/cas/v2/README.md). v2 environments,
 * applications and instances are the v3 ones; what follows is only what v3 has no field
 * for. Times are epoch milliseconds.
 */

/** `source` of a v2 component (SDK SourceObject): kind `code` (a repository) or `artifact` (a package). */
export interface V2Source {
  kind: string;
  spec: Record<string, unknown>;
}

/** The v2 fields of a component, kept as the client sent them. */
export interface V2ComponentBody {
  runtime: string;
  category: string;
  sub_category?: string;
  description?: string;
  source?: V2Source;
  build?: { parameters?: Record<string, unknown> };
}

/** A v2 component: a definition that its instances (v3 components) deploy. */
export interface V2Component {
  id: string;
  projectId: string;
  applicationId: string;
  name: string;
  body: V2ComponentBody;
  creator: string;
  /** True while a forced delete removes its instances. */
  deleting: boolean;
  createdAtMs: number;
  updatedAtMs: number;
}

/** One v2 artifact (SDK instances.Artifact), by container (component) name in `artifacts`. */
export interface V2Artifact {
  storage?: string;
  type?: string;
  url?: string;
  auth?: string;
  version?: string;
  properties?: Record<string, unknown> | null;
}

/** The link of a v2 instance (a v3 component, same id) to its v2 component. */
export interface V2InstanceLink {
  instanceId: string;
  projectId: string;
  componentId: string;
  flavorId: string;
  artifacts: Record<string, V2Artifact>;
  /** JSON of the v3 `source` the artifacts became, to tell whether v3 changed it since ("" when none). */
  artifactSource: string;
}

/** An environment's v2-only fields. Resource keys are `type/id`. */
export interface V2EnvironmentExtra {
  environmentId: string;
  projectId: string;
  alias: string;
  chargeMode: string;
  baseKeys: string[];
  optionalKeys: string[];
}
