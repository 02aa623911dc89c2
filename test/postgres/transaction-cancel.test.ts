/**
 * The statement a transactional job's handler leaves running when its attempt ends without a commit
 * (a timeout here) is cancelled before the rollback, wherever it came from and however the pool is
 * placed: an enqueue made with `tx: ctx.tx` waiting on a unique key another transaction holds; a
 * pool behind a pooler whose session keys are its own (a proxy that maps them, as PgBouncer does);
 * a pool with no connection to spare when the cancel is due. Each would wait
 * for the statement (a minute, or until the test's lock holder lets go) without the cancel.
 * The simple cases (a timed-out handler's own query, shutdown's grace period) are in
 * transactional-execution.test.ts.
 */
import net from 'node:net'
import pg from 'pg'
import { afterAll, afterEach, expect, it } from 'vitest'
import { createPostgresQueue, type PostgresQueue } from '../../src/adapters/postgres/index.js'
import { runInTransaction } from '../../src/adapters/postgres/job-transaction.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { waitFor } from '../support/wait.js'
import { databaseUrl, describePostgres, useStore } from './fixture.js'

/**
 * A TCP proxy to PostgreSQL that hands clients session keys of its own, as PgBouncer does: it
 * replaces the process id and secret key of the server's BackendKeyData with made-up ones, and maps a
 * CancelRequest carrying made-up ones back to the server's before passing it on.
 */
function keyMappingProxy(target: { host: string; port: number }): Promise<net.Server> {
  /** Made-up key (pid:secret) -> the server's. */
  const keys = new Map<string, { pid: number; secret: number }>()
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host)
    let first = true
    client.on('data', (chunk: Buffer) => {
      // A CancelRequest: 16 bytes, code 80877102, then the key.
      if (first && chunk.length === 16 && chunk.readInt32BE(4) === 80877102) {
        const real = keys.get(`${chunk.readInt32BE(8)}:${chunk.readInt32BE(12)}`)
        if (real) {
          chunk.writeInt32BE(real.pid, 8)
          chunk.writeInt32BE(real.secret, 12)
        }
      }
      first = false
      upstream.write(chunk)
    })
    let buffered = Buffer.alloc(0)
    let passthrough = false
    upstream.on('data', (chunk: Buffer) => {
      if (passthrough) {
        client.write(chunk)
        return
      }
      buffered = Buffer.concat([buffered, chunk])
      let offset = 0
      while (buffered.length - offset >= 5) {
        const type = String.fromCharCode(buffered[offset]!)
        const length = buffered.readInt32BE(offset + 1)
        if (buffered.length - offset < 1 + length) break
        if (type === 'K') {
          const fake = {
            pid: 1_000_000 + Math.floor(Math.random() * 1e9),
            secret: Math.floor(Math.random() * 1e9),
          }
          keys.set(`${fake.pid}:${fake.secret}`, {
            pid: buffered.readInt32BE(offset + 5),
            secret: buffered.readInt32BE(offset + 9),
          })
          buffered.writeInt32BE(fake.pid, offset + 5)
          buffered.writeInt32BE(fake.secret, offset + 9)
        }
        offset += 1 + length
        // ReadyForQuery: the start-up is over, the rest passes as it is.
        if (type === 'Z') {
          passthrough = true
          break
        }
      }
      client.write(passthrough ? buffered : buffered.subarray(0, offset))
      buffered = passthrough ? Buffer.alloc(0) : buffered.subarray(offset)
    })
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    client.on('close', () => upstream.destroy())
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

describePostgres('cancel of the statement a timed-out transactional handler left running', () => {
  const db = useStore()
  const cleanups: (() => Promise<unknown>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  /** Statements of this test still running on the server, found by a tag in their text. */
  const running = async (tag: string) =>
    (
      await db.pool.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`,
        [tag],
      )
    ).rows[0].n as number

  function queueOn(pool: pg.Pool): PostgresQueue {
    const queue = createPostgresQueue({ pool, schema: db.schema })
    cleanups.push(() => queue.shutdown({ graceMs: 10_000 }))
    return queue
  }

  /**
   * Drains one job of `kind` whose handler sleeps a minute in its transaction under a 300 ms timeout:
   * the drain ends with a retry, and the sleep no longer runs, only if the sleep was cancelled
   * (otherwise the drain waits out the minute and the test times out).
   */
  async function expectSleepCancelled(queue: PostgresQueue, kind: string): Promise<void> {
    const tag = `slow_${kind.replaceAll('-', '_')}_${Date.now()}`
    const slow = defineJob<{ n: number }>({ kind, maxAttempts: 3, timeoutMs: 300 })
    queue.register(
      slow,
      async (_p, ctx) => {
        await ctx.tx!.query(`SELECT pg_sleep(60) AS ${tag}`)
      },
      { transactional: true },
    )
    await queue.enqueue(slow, { n: 1 })
    expect(await queue.drain()).toMatchObject({ retried: 1, total: 1 })
    // Cancelled, and its session closed: the server ends the statement (waited for, with a timeout).
    await waitFor(async () => (await running(tag)) === 0)
  }

  it('an enqueue through ctx.tx waiting on a unique key held by another transaction', async () => {
    const queue = queueOn(db.pool)
    const child = defineJob<{ n: number }>({ kind: 'cancel-child' })
    const parent = defineJob<{ n: number }>({ kind: 'cancel-parent', maxAttempts: 3, timeoutMs: 300 })
    queue.register(child, () => undefined)
    queue.register(
      parent,
      async (_p, ctx) => {
        await queue.enqueue(child, { n: 2 }, { tx: ctx.tx!, uniqueKey: 'held' })
      },
      { transactional: true },
    )
    // Another transaction has inserted a job with the key and not ended: the handler's insert waits.
    const holder = await db.pool.connect()
    cleanups.push(async () => {
      await holder.query('ROLLBACK').catch(() => undefined)
      holder.release()
    })
    await holder.query('BEGIN')
    await queue.enqueue(child, { n: 1 }, { tx: holder, uniqueKey: 'held' })
    const { id } = await queue.enqueue(parent, { n: 0 })
    const draining = queue.drain({ limit: 1 })
    // The attempt ends at its timeout while the holder still holds the key: only a cancel lets the
    // rollback (and so the drain) finish before the holder ends.
    await waitFor(async () => (await db.store.getJob({ id }))?.state === 'retryable', { timeoutMs: 10_000 })
    expect(await draining).toMatchObject({ retried: 1, total: 1 })
    expect((await db.store.getJob({ id }))!.errors.map((e) => e.name)).toEqual(['JobTimeoutError'])
    await waitFor(async () => (await running(`${db.schema}`)) === 0)
  })

  it('a pool behind a pooler that hands out session keys of its own (as PgBouncer does)', async () => {
    const url = new URL(databaseUrl())
    const proxy = await keyMappingProxy({ host: url.hostname, port: Number(url.port || 5432) })
    cleanups.push(() => new Promise((resolve) => proxy.close(resolve)))
    url.hostname = '127.0.0.1'
    url.port = String((proxy.address() as net.AddressInfo).port)
    const pool = new pg.Pool({ connectionString: url.toString(), max: 5 })
    cleanups.push(() => pool.end())
    // Without the pooler's own key the cancel reaches no session.
    await expectSleepCancelled(queueOn(pool), 'cancel-proxy')
  })

  it('a pool with no connection to spare: the cancel needs none', async () => {
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 2 })
    cleanups.push(() => pool.end())
    const queue = queueOn(pool)
    // The application holds the pool's other connection for the whole attempt.
    const held = await pool.connect()
    cleanups.push(async () => held.release())
    await expectSleepCancelled(queue, 'cancel-full')
  })
})

/**
 * The same, one level down (`runInTransaction`, as a transactional job's attempt uses it), where the
 * connection's transport matters: a pooler that closes the cancel socket before it forwards the
 * request (PgBouncer up to 1.17, pgcat), a pool connecting through a stream factory (a cloud
 * connector, a tunnel), and a cursor left open between two reads.
 */
describePostgres('ending a job transaction with a statement left running', () => {
  const cleanups: (() => Promise<unknown> | void)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  const admin = new pg.Pool({ connectionString: databaseUrl(), max: 1 })
  afterAll(() => admin.end())
  const running = async (tag: string) =>
    (
      await admin.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`,
        [tag],
      )
    ).rows[0].n as number
  const server = () => {
    const url = new URL(databaseUrl())
    return { host: url.hostname, port: Number(url.port || 5432) }
  }
  function poolTo(port: number, extra: pg.PoolConfig = {}): pg.Pool {
    const url = new URL(databaseUrl())
    url.hostname = '127.0.0.1'
    url.port = String(port)
    const pool = new pg.Pool({ connectionString: url.toString(), max: 1, ...extra })
    cleanups.push(() => pool.end())
    return pool
  }

  it("a pooler that forwards the cancel late: it never reaches the connection's next user", async () => {
    // The pooler closes the client's cancel socket at once and forwards the request when told.
    let forward: (() => void) | null = null
    const target = server()
    const proxy = net.createServer((client) => {
      let upstream: net.Socket | null = null
      let first = true
      client.on('error', () => {})
      client.on('data', (chunk: Buffer) => {
        if (first && chunk.length === 16 && chunk.readInt32BE(4) === 80877102) {
          client.destroy()
          forward = () => {
            const up = net.connect(target.port, target.host, () => up.end(chunk))
            up.on('error', () => {})
          }
          return
        }
        first = false
        if (!upstream) {
          const up = net.connect(target.port, target.host)
          upstream = up
          up.on('data', (d) => client.write(d))
          up.on('error', () => client.destroy())
          up.on('close', () => client.destroy())
          client.on('close', () => up.destroy())
        }
        upstream.write(chunk)
      })
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()))
    cleanups.push(() => new Promise((resolve) => proxy.close(resolve)))
    const pool = poolTo((proxy.address() as net.AddressInfo).port)
    const tag = `late_cancel_${Date.now()}`
    await runInTransaction(pool, async (tx) => {
      // Left running when the attempt ends (its timeout, say).
      tx.query(`SELECT pg_sleep(60) AS ${tag}`).catch(() => undefined)
      return { commit: false, value: null }
    })
    // The pool's one connection's next user runs a statement; then the late cancel arrives.
    const next = `next_user_${Date.now()}`
    const nextQuery = pool.query(`SELECT pg_sleep(0.5) AS ${next}`)
    await waitFor(async () => (await running(next)) === 1 && forward !== null)
    forward!()
    await expect(nextQuery).resolves.toBeDefined()
  })

  it('a pool that connects through a stream factory: the cancel goes where its socket goes', async () => {
    const target = server()
    class Tunnel extends net.Socket {
      override connect(..._args: unknown[]): this {
        return super.connect(target.port, target.host)
      }
    }
    // pg's host and port say 6999; the tunnel's socket goes to the server.
    const pool = poolTo(6999, { stream: () => new Tunnel() } as pg.PoolConfig)
    const tag = `tunnel_${Date.now()}`
    await runInTransaction(pool, async (tx) => {
      tx.query(`SELECT pg_sleep(60) AS ${tag}`).catch(() => undefined)
      await waitFor(async () => (await running(tag)) === 1)
      return { commit: false, value: null }
    })
    await waitFor(async () => (await running(tag)) === 0)
  })

  it('a cursor left open between two reads does not hold the end of the transaction', async () => {
    const pool = poolTo(server().port)
    // What pg-cursor and pg-query-stream do: Execute with a row limit and Flush, no Sync.
    class MiniCursor {
      done: ((error: unknown) => void) | null = null
      submit(connection: {
        parse(q: object, more: boolean): void
        bind(q: object, more: boolean): void
        describe(q: object, more: boolean): void
        execute(q: object, more: boolean): void
        flush(): void
      }) {
        connection.parse({ text: 'SELECT g FROM generate_series(1, 10) g' }, true)
        connection.bind({ portal: 'c1' }, true)
        connection.describe({ type: 'P', name: 'c1' }, true)
        connection.execute({ portal: 'c1', rows: 2 }, true)
        connection.flush()
      }
      handleRowDescription() {}
      handleDataRow() {}
      handlePortalSuspended() {
        this.done?.(null)
      }
      handleCommandComplete() {
        this.done?.(null)
      }
      handleReadyForQuery() {}
      handleEmptyQuery() {}
      handleError(error: unknown) {
        this.done?.(error)
      }
    }
    // Without the fix the ROLLBACK waits behind the cursor for ever (and the test times out).
    const value = await runInTransaction(pool, async (tx) => {
      const cursor = new MiniCursor()
      const firstBatch = new Promise((resolve, reject) => {
        cursor.done = (error) => (error ? reject(error) : resolve(null))
      })
      tx.query(cursor as never)
      await firstBatch
      return { commit: false, value: 'ended' }
    })
    expect(value).toBe('ended')
  })
})
