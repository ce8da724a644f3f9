import { sql } from 'kysely';
import type { Db } from '../core/db/kysely.js';
import type { Logger } from '../core/log.js';

/** The API roots the landing page lists (DESIGN.md prefix table). */
const API_ROOTS = [
  { name: 'ServiceComb service center (registry v4)', root: '/v4/{project}/registry' },
  { name: 'Engine RBAC', root: '/v4/token' },
  { name: 'Config center (Kie v1)', root: '/v1/{project}/kie' },
  { name: 'ServiceStage application management (v3)', root: '/v3/{project}/cas' },
  { name: 'Git repository access (v1)', root: '/v1/{project}/git' },
  { name: 'CSE engine management (v2)', root: '/v2/{project}/enginemgr' },
  { name: 'IAM-compatible identity', root: '/v3/auth/tokens' },
];

/** The landing page's content: GET / as JSON. */
export function landingPage(version: string): { name: string; version: string; apis: { name: string; root: string }[]; links: Record<string, string> } {
  return {
    name: 'OpenStage',
    version,
    apis: API_ROOTS,
    links: { console: '/console/', docs: '/docs', openapi: '/openapi.json', metrics: '/metrics', healthz: '/healthz', readyz: '/readyz' },
  };
}

const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The landing page as a small HTML document (for browsers). */
export function landingHtml(page: ReturnType<typeof landingPage>): string {
  const apis = page.apis.map((a) => `<li>${escapeHtml(a.name)}: <code>${escapeHtml(a.root)}</code></li>`).join('');
  const links = Object.entries(page.links).map(([k, v]) => `<li><a href="${escapeHtml(v)}">${escapeHtml(k)}</a> <code>${escapeHtml(v)}</code></li>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>OpenStage ${escapeHtml(page.version)}</title></head>
<body><h1>OpenStage ${escapeHtml(page.version)}</h1><p>Self-hosted ServiceStage and ServiceComb (CSE) APIs on one port.</p>
<h2>Start here</h2><ul>${links}</ul><h2>API roots</h2><ul>${apis}</ul></body></html>\n`;
}

/**
 * Whether this server should get traffic (GET /readyz): `starting` until it listens,
 * `stopping` from the start of its shutdown, and a database that answers within `timeoutMs`.
 */
export class Readiness {
  private phase: 'starting' | 'serving' | 'stopping' = 'starting';

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly timeoutMs = 2000,
  ) {}

  /** The server listens and has registered itself. */
  serving(): void {
    if (this.phase === 'starting') this.phase = 'serving';
  }

  /** The server has begun to stop. */
  stopping(): void {
    this.phase = 'stopping';
  }

  /**
   * Runs the checks. @returns check name → `ok` or the reason it failed: `server`
   * (starting | stopping), `database` (a `SELECT 1` within timeoutMs, else `unreachable`), `migrations` (applied
   * before the server was built, so `ok` once it exists).
   */
  async check(): Promise<Record<string, string>> {
    const server = this.phase === 'serving' ? 'ok' : this.phase;
    let database: string;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        sql`select 1`.execute(this.db.kysely),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
      database = 'ok';
    } catch (err) {
      // The reason goes to the log: the probe is unauthenticated.
      this.log.warn({ err }, 'readiness: database check failed');
      database = 'unreachable';
    } finally {
      clearTimeout(timer);
    }
    return { server, database, migrations: 'ok' };
  }
}
