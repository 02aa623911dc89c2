/**
 * PostgreSQL's CancelRequest for one `pg` client's session, sent as libpq does: a new connection to
 * the same server carrying the session's process id and secret key (the two numbers the server gave
 * the client at start-up in BackendKeyData). The server (or a pooler such as PgBouncer, which maps
 * its own keys to the server session it has linked) signals that session's backend to cancel its
 * running statement and closes the connection; the signal is sent before the close, so once the
 * socket has closed, a statement that was running is being cancelled, and a session that was idle
 * ignores it. Needs no pool connection and runs no SQL.
 */
import net from 'node:net'

/** The start-up code of a CancelRequest (protocol 3.0). */
const CANCEL_REQUEST_CODE = 80877102

/** What `pg`'s client keeps of its session: the key, and where it connected. */
interface SessionKey {
  processID?: unknown
  secretKey?: unknown
  connectionParameters?: { host?: unknown; port?: unknown }
}

/**
 * How a cancel request ended: `sent` (the server closed the connection after reading it), `none`
 * (nothing could be sent: no key, or no connection; the statement runs on), `unknown` (sent, but the
 * server's answer did not come within `timeoutMs`: it may still act on it).
 */
export type CancelOutcome = 'sent' | 'none' | 'unknown'

/** Sends the CancelRequest of `client`'s session; resolves once the server has closed the connection. */
export function sendCancelRequest(client: unknown, timeoutMs = 5_000): Promise<CancelOutcome> {
  const { processID, secretKey, connectionParameters } = (client ?? {}) as SessionKey
  const host = typeof connectionParameters?.host === 'string' ? connectionParameters.host : 'localhost'
  const port = typeof connectionParameters?.port === 'number' ? connectionParameters.port : 5432
  // No session key (pg.native, an adapter), or no server to reach (PGlite's clients say port 0).
  if (!Number.isInteger(processID) || (processID as number) <= 0 || !Number.isInteger(secretKey) || port <= 0)
    return Promise.resolve('none')
  const packet = Buffer.alloc(16)
  packet.writeInt32BE(16, 0)
  packet.writeInt32BE(CANCEL_REQUEST_CODE, 4)
  packet.writeInt32BE(processID as number, 8)
  packet.writeInt32BE(secretKey as number, 12)
  return new Promise((resolve) => {
    let written = false
    let settled = false
    const socket = host.startsWith('/') ? net.connect(`${host}/.s.PGSQL.${port}`) : net.connect(port, host)
    const finish = (outcome: CancelOutcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(outcome)
    }
    const timer = setTimeout(() => finish(written ? 'unknown' : 'none'), timeoutMs)
    socket.on('connect', () => {
      written = true
      socket.write(packet)
    })
    // The server reads the request, signals the backend, and closes without a word.
    socket.on('close', () => finish(written ? 'sent' : 'none'))
    socket.on('error', () => finish(written ? 'unknown' : 'none'))
  })
}
