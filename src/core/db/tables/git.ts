/** Row types of the git tables, touched only by src/git/store.ts. */
export interface GitAuthorizationsTable {
  project: string;
  name: string;
  repo_type: string;
  /** `oauth` | `personal` | `password`. */
  token_type: string;
  repo_host: string;
  repo_home: string;
  repo_user: string;
  avartar: string;
  /** SecretBox-sealed credential: the token, or `user:password` for password authorizations. */
  token_sealed: string;
  /** SecretBox-sealed OAuth refresh token, '' when none. */
  refresh_sealed: string;
  status: number;
  created_at_ms: number | string;
  updated_at_ms: number | string;
}

export interface GitOauthStatesTable {
  /** SHA-256 of the state value. */
  digest: string;
  project: string;
  repo_type: string;
  created_at_ms: number | string;
}

/** Hooks of repositories hosted by OpenStage (repo_type `local`). */
export interface GitHooksTable {
  id: string;
  project: string;
  namespace: string;
  repo: string;
  url: string;
  secret_sealed: string;
  created_at_ms: number | string;
}

/** Secrets of hooks OpenStage created on remote hosts, to verify their deliveries. */
export interface GitWebhookSecretsTable {
  project: string;
  /** `<repo_type>:<hook id>`. */
  hook_key: string;
  secret_sealed: string;
  created_at_ms: number | string;
}

/** Names of repositories hosted by OpenStage: claimed here before the bare repository is made. */
export interface GitRepositoriesTable {
  project: string;
  namespace: string;
  repo: string;
  created_at_ms: number | string;
}

export interface GitTables {
  git_authorizations: GitAuthorizationsTable;
  git_repositories: GitRepositoriesTable;
  git_oauth_states: GitOauthStatesTable;
  git_hooks: GitHooksTable;
  git_webhook_secrets: GitWebhookSecretsTable;
}
