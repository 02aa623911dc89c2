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

/** What `pg`'s client keeps of its session: the key, its socket, and where it was told to connect. */
interface SessionKey {
  processID?: unknown
  secretKey?: unknown
  connection?: { stream?: unknown }
  connectionParameters?: { host?: unknown; port?: unknown }
}

/**
 * Where the session's server is: the peer of the client's TCP socket (the address it did connect
 * to, whatever the host name resolves to now), or the Unix socket of its host directory; null for
 * any other transport (PGlite in process, a stream factory such as a cloud connector's tunnel).
 */
function serverOf(key: SessionKey): net.NetConnectOpts | null {
  const stream = key.connection?.stream
  if (!(stream instanceof net.Socket)) return null
  if (stream.remoteAddress !== undefined && stream.remotePort !== undefined)
    return { host: stream.remoteAddress, port: stream.remotePort }
  const host = key.connectionParameters?.host
  const port = key.connectionParameters?.port
  if (typeof host === 'string' && host.startsWith('/') && typeof port === 'number')
    return { path: `${host}/.s.PGSQL.${port}` }
  return null
}

/**
 * How a cancel request ended: `sent` (the server closed the connection after reading it), `none`
 * (nothing could be sent: no key, or no connection; the statement runs on), `unknown` (sent, but the
 * server's answer did not come within `timeoutMs`: it may still act on it).
 */
export type CancelOutcome = 'sent' | 'none' | 'unknown'

/** Sends the CancelRequest of `client`'s session; resolves once the server has closed the connection. */
export function sendCancelRequest(client: unknown, timeoutMs = 5_000): Promise<CancelOutcome> {
  const key = (client ?? {}) as SessionKey
  const { processID, secretKey } = key
  const server = serverOf(key)
  // No session key (pg.native, PGlite), or no socket of ours to the server.
  if (!Number.isInteger(processID) || (processID as number) <= 0 || !Number.isInteger(secretKey) || !server)
    return Promise.resolve('none')
  const packet = Buffer.alloc(16)
  packet.writeInt32BE(16, 0)
  packet.writeInt32BE(CANCEL_REQUEST_CODE, 4)
  packet.writeInt32BE(processID as number, 8)
  packet.writeInt32BE(secretKey as number, 12)
  return new Promise((resolve) => {
    let written = false
    let settled = false
    const socket = net.connect(server)
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
    // The server reads the request, signals the backend, and closes without a word; anything it
    // says instead (a TLS-only endpoint's alert, an error) means it did not take the request.
    socket.on('data', () => finish('unknown'))
    socket.on('close', () => finish(written ? 'sent' : 'none'))
    socket.on('error', () => finish(written ? 'unknown' : 'none'))
  })
}
