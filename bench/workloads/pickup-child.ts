/**
 * The worker side of W0's pickup floors, in its own process as W4's workers are: LISTEN on one
 * connection and, on each notification, claim on another, stamping each claimed row's `i` with
 * `performance.timeOrigin + performance.now()`. Arguments: mode, database URL, name, rows expected
 * after the warm-up row.
 * - `raw`: `name` is the raw table; claim one row (`FOR UPDATE SKIP LOCKED`) with
 *   `synchronous_commit = off`, as Conveyor's claims run.
 * - `adapter`: `name` is Conveyor's schema; claim with the adapter's own `claimJobs` on a connection
 *   with the claim pool's session settings, as an idle Conveyor worker does (capacity 10 + 100).
 * Messages to the parent: `ready`, `warm` (row -1 claimed), then `{ stamps }` once every row is
 * claimed, or `{ error }`.
 */
import pg from 'pg'
import { claimJobs } from '../../src/adapters/postgres/claim.js'
import { CLAIM_SESSION_SETTINGS } from '../../src/adapters/postgres/claim-pool.js'
import { sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { storeStatements } from '../../src/adapters/postgres/statements.js'
import { stamp } from '../lib/stats.js'

const [mode, databaseUrl, name, count] = process.argv.slice(2)
const n = Number(count)
const send = (message: unknown) => process.send?.(message)

/** Claims what one notification made available; resolves to the claimed rows' `i`. */
type Claim = () => Promise<number[]>

async function rawClaim(claimer: pg.Client): Promise<{ channel: string; claim: Claim }> {
  await claimer.query('SET synchronous_commit = off')
  const text = `UPDATE ${name} SET state = 'running'
    WHERE id = (SELECT id FROM ${name} WHERE state = 'available' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING (payload->>'i')::int AS i`
  return {
    channel: name!,
    claim: async () => (await claimer.query<{ i: number }>({ name: 'claim', text })).rows.map((r) => r.i),
  }
}

function adapterClaim(claimer: pg.Client): { channel: string; claim: Claim } {
  const names = sqlNames(name!)
  const sql = storeStatements(names)
  const claim: Claim = async () => {
    const jobs = await claimJobs(claimer, names, sql.claim, {
      queues: ['default'],
      kinds: ['noop'],
      capacity: 110,
      strategy: 'priority',
      oversizedFirst: true,
      workerId: 'bench-pickup-floor',
      now: Date.now(),
    })
    return jobs.map((job) => (job.payload as { i: number }).i)
  }
  return { channel: names.jobsChannel, claim }
}

async function main(): Promise<void> {
  const listener = new pg.Client({ connectionString: databaseUrl })
  const claimer = new pg.Client({
    connectionString: databaseUrl,
    ...(mode === 'adapter' ? { options: CLAIM_SESSION_SETTINGS } : {}),
  })
  await Promise.all([listener.connect(), claimer.connect()])
  const { channel, claim } = mode === 'adapter' ? adapterClaim(claimer) : await rawClaim(claimer)
  const stamps: Record<number, number> = {}
  let claimed = 0
  // One claim per notification; the claimer's queries run one after another, in arrival order.
  listener.on('notification', () => {
    claim().then(
      (rows) => {
        const at = stamp()
        for (const i of rows) {
          if (i === -1) {
            send('warm')
            continue
          }
          stamps[i] = at
          if (++claimed === n) send({ stamps })
        }
      },
      (error: Error) => send({ error: error.message }),
    )
  })
  await listener.query(`LISTEN ${pg.Client.prototype.escapeIdentifier(channel)}`)
  send('ready')
}

main().catch((error: Error) => send({ error: error.message }))
