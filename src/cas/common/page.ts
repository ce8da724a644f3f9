/**
 * Paging and ordering of ServiceStage lists (servicestage.md §1 Pagination): `order_by`
 * create_time (default) | name | update_time — anything else means create_time; `order`
 * desc (default) | asc; `offset` records skipped; `limit` 0–100, where absent or 0 means
 * every remaining record (INF). A page past the end is `[]`, never an error: Terraform pages
 * until it gets an empty one.
 *
 * Lists are per project and small, so they are ordered here rather than in SQL: the order
 * is then the same on SQLite and PostgreSQL (whose collations differ). Ties break on id.
 */

/** What a listed item must expose to be ordered. */
export interface Orderable {
  id: string;
  name: string;
  /** Epoch milliseconds. */
  create_time: number;
  /** Epoch milliseconds. */
  update_time: number;
}

/** A list query as the routes receive it. */
export interface PageQuery {
  limit?: number;
  offset?: number;
  order_by?: string;
  order?: 'asc' | 'desc';
}

/** Orders `items` and cuts the requested page. @returns the page and the total before paging */
export function paginate<T extends Orderable>(items: readonly T[], query: PageQuery = {}): { items: T[]; total: number } {
  const key: keyof Orderable = query.order_by === 'name' || query.order_by === 'update_time' ? query.order_by : 'create_time';
  const sign = query.order === 'asc' ? 1 : -1;
  const sorted = [...items].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    const c = x < y ? -1 : x > y ? 1 : 0;
    return c !== 0 ? c * sign : a.id < b.id ? -sign : a.id > b.id ? sign : 0;
  });
  const offset = query.offset ?? 0;
  const end = query.limit ? offset + query.limit : undefined;
  return { items: sorted.slice(offset, end), total: items.length };
}
