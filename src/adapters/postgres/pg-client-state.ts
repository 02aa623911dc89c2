/**
 * What a `pg` client shows of the queries it was given: whether one is still running or queued.
 * Read from `pg`'s internals (`_activeQuery`, `_queryQueue`, stable through pg 8); a client that
 * has neither (pg.native, an ORM's handle) reads as not busy.
 */

/** The internals read here. */
interface PgClientInternals {
  _activeQuery?: unknown
  _queryQueue?: readonly unknown[]
}

/** True when `client` has a query running or queued (sent without awaiting it). */
export function pgClientBusy(client: unknown): boolean {
  const c = client as PgClientInternals | null
  if (c === null || typeof c !== 'object') return false
  return (
    (c._activeQuery !== null && c._activeQuery !== undefined) ||
    (Array.isArray(c._queryQueue) && c._queryQueue.length > 0)
  )
}
