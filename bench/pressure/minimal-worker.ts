/**
 * The smallest worker a good runtime would be, for the storage candidates under pressure: one
 * LISTEN connection, one claim connection (the claim pool's session settings) and one completion
 * connection; `concurrency` slots and a local buffer of up to `prefetch` claimed jobs. Claims are
 * coalesced: at most one in flight, a notification that arrives meanwhile asks for one more after
 * it, a claim that came back full is followed by another, and a poll every second is the fallback.
 * Completions are batched: everything finished while a completion statement runs goes in the next.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { CLAIM_SESSION_SETTINGS } from '../../src/adapters/postgres/claim-pool.js'
import type { Candidate, ClaimedJob, Claimer } from '../candidates/types.js'

const POLL_MS = 1000

/** What the worker reports to its host. */
export interface WorkerHooks {
  /** A handler starts on this job's payload. */
  onStart(payload: unknown): void
  /** Completions of `n` jobs were written. */
  onCompleted(n: number): void
  onError(error: unknown): void
}

/** A running minimal worker; `stop()` finishes what it holds and closes its connections. */
export interface MinimalWorker {
  stop(): Promise<void>
}

/** Starts a minimal worker for `candidate` on `databaseUrl`. */
export async function startMinimalWorker(
  candidate: Candidate,
  databaseUrl: string,
  options: { concurrency: number; prefetch: number; handlerMs: number },
  hooks: WorkerHooks,
): Promise<MinimalWorker> {
  const workerId = `bench-minimal-${process.pid}`
  const pools: pg.Pool[] = []
  const connect = async (settings: string) => {
    const pool = new pg.Pool({ connectionString: databaseUrl, options: settings, max: 1 })
    pool.on('error', (error) => hooks.onError(error))
    pools.push(pool)
    return pool.connect()
  }
  const listener = await connect('-c jit=off')
  const claimClient = await connect(`-c jit=off ${CLAIM_SESSION_SETTINGS}`)
  const completeClient = await connect('-c jit=off')
  const claimer: Claimer = candidate.openClaimer(workerId)

  const buffer: ClaimedJob[] = []
  const finished: ClaimedJob[] = []
  let running = 0
  let claiming = false
  let claimAgain = false
  let lastClaimFull = false
  let completing: Promise<void> | null = null
  let stopping = false

  const wantClaim = () => {
    if (stopping) return
    if (claiming) {
      claimAgain = true
      return
    }
    claiming = true
    setImmediate(() => void claim())
  }

  const claim = async () => {
    try {
      const room = options.concurrency + options.prefetch - running - buffer.length
      if (room <= 0) return
      const jobs = await claimer.claim(claimClient, room)
      lastClaimFull = jobs.length === room
      buffer.push(...jobs)
      pump()
      if (lastClaimFull) claimAgain = true
    } catch (error) {
      hooks.onError(error)
    } finally {
      claiming = false
      if (claimAgain) {
        claimAgain = false
        wantClaim()
      }
    }
  }

  const pump = () => {
    while (running < options.concurrency && buffer.length > 0) {
      const job = buffer.shift()!
      running++
      void run(job)
    }
  }

  const run = async (job: ClaimedJob) => {
    hooks.onStart(job.payload)
    await sleep(options.handlerMs)
    running--
    finished.push(job)
    complete()
    pump()
    if (lastClaimFull || buffer.length === 0) wantClaim()
  }

  const complete = () => {
    if (completing || finished.length === 0) return
    completing = (async () => {
      await new Promise((resolve) => setImmediate(resolve))
      const batch = finished.splice(0, finished.length)
      try {
        hooks.onCompleted(await candidate.complete(completeClient, workerId, batch))
      } catch (error) {
        hooks.onError(error)
      }
    })().finally(() => {
      completing = null
      complete()
    })
  }

  listener.on('notification', () => wantClaim())
  await listener.query(`LISTEN "${candidate.channel}"`)
  const poll = setInterval(wantClaim, POLL_MS)
  wantClaim()

  return {
    async stop() {
      stopping = true
      clearInterval(poll)
      while (claiming || running > 0 || buffer.length > 0 || completing || finished.length > 0) {
        pump()
        complete()
        await sleep(5)
      }
      for (const client of [listener, claimClient, completeClient]) client.release()
      await Promise.all(pools.map((pool) => pool.end()))
    },
  }
}
