/**
 * The payload of the jobs channel (`<schema>_jobs`): which queues got jobs available now, and per
 * queue the most urgent key among them, so that a claim loop whose keyset cursor already passed that
 * key starts its next claim there (claim-cursor.ts) instead of waiting for its full scan.
 *
 * Format: a JSON array of the queue names, then one array of keys in the same order, each
 * `[priority, runAtMs]` (the lowest priority number and the earliest run time among the queue's
 * jobs: a bound at or before each of them in both strategies' orders) or `null` (anywhere: claim
 * from the front), e.g. `["a", "b", [[1, 1893456000000], null]]`. `[]` wakes every queue.
 *
 * Compatibility: earlier versions send only the names and read only the strings of the array, so
 * mixed versions during an upgrade wake the same workers; a payload without keys moves no cursor
 * (its jobs wait at most for the full scan, as before).
 */

/** Where a notified queue's claims should start again: a key in strategy order, or null for the front. */
export type NotifiedKey = { readonly priority: number; readonly runAt: number } | null

/** A parsed jobs-channel payload. */
export interface JobsNotification {
  /** The queues to wake (`[]`: every queue). */
  readonly queues: readonly string[]
  /** Per notified queue, its most urgent key (absent when the payload carries none). */
  readonly keys: ReadonlyMap<string, NotifiedKey>
}

/**
 * Beyond this many queues in one statement, the payload is `[]` (wake every queue, no keys): names
 * of up to 128 characters and their keys then stay under NOTIFY's 8000-byte limit.
 */
export const MAX_NOTIFIED_QUEUES = 40

const NONE: ReadonlyMap<string, NotifiedKey> = new Map()

/** Parses a jobs-channel payload; anything malformed wakes every queue and moves no cursor. */
export function parseJobsNotification(payload: string | undefined): JobsNotification {
  if (!payload) return { queues: [], keys: NONE }
  let value: unknown
  try {
    value = JSON.parse(payload)
  } catch {
    return { queues: [], keys: NONE }
  }
  if (!Array.isArray(value)) return { queues: [], keys: NONE }
  const queues = value.filter((v): v is string => typeof v === 'string')
  const last: unknown = value[value.length - 1]
  if (queues.length === 0 || !Array.isArray(last) || last.length !== queues.length)
    return { queues, keys: NONE }
  const keys = new Map<string, NotifiedKey>()
  last.forEach((entry: unknown, i) => {
    const key = toKey(entry)
    if (key !== undefined) keys.set(queues[i]!, key)
  })
  return { queues, keys }
}

function toKey(entry: unknown): NotifiedKey | undefined {
  if (entry === null) return null
  if (!Array.isArray(entry) || entry.length !== 2) return undefined
  const [priority, runAt] = entry as unknown[]
  if (!Number.isInteger(priority) || typeof runAt !== 'number' || !Number.isFinite(runAt)) return undefined
  return { priority: priority as number, runAt }
}

/** Where the rows of a notification come from, as SQL expressions. */
export interface NotifiedRows {
  /** A relation (with its alias) and, optionally, a condition on it. */
  readonly from: string
  readonly where?: string
  readonly queue: string
  readonly priority: string
  /** The run time in epoch ms (float8). */
  readonly runAtMs: string
}

/**
 * A statement sending one notification for `rows` on channel `channel` (an SQL parameter), in the
 * format above, or none when there are no rows: one payload per statement.
 */
export function notifyJobsSql(channel: string, rows: NotifiedRows): string {
  return `SELECT pg_notify(${channel}::text, CASE WHEN count(*) <= ${MAX_NOTIFIED_QUEUES}
        THEN (jsonb_agg(k.queue ORDER BY k.queue)
          || jsonb_build_array(jsonb_agg(jsonb_build_array(k.priority, k.run_at) ORDER BY k.queue)))::text
        ELSE '[]' END)
      FROM (
        SELECT ${rows.queue} AS queue, min(${rows.priority}) AS priority, min(${rows.runAtMs}) AS run_at
        FROM ${rows.from}${rows.where ? ` WHERE ${rows.where}` : ''}
        GROUP BY 1
      ) k
      HAVING count(*) > 0`
}

/** A notification payload naming one queue whose claims should start from the front (a resumed queue). */
export function frontOfQueueSql(queue: string): string {
  return `json_build_array(${queue}, json_build_array(NULL))::text`
}
