/**
 * The end of every child-process script the process tests start: start the queue, print `ready`,
 * and on SIGTERM shut it down gracefully, close what the script opened, and exit 0.
 */
import type { CoreQueue } from '../../src/core/create-queue.js'

export async function serveUntilSigterm(
  queue: Pick<CoreQueue, 'start' | 'shutdown'>,
  options: { graceMs: number; close: () => Promise<unknown> },
): Promise<void> {
  process.on('SIGTERM', () => {
    void queue
      .shutdown({ graceMs: options.graceMs })
      .then(options.close)
      .then(() => process.exit(0))
  })
  await queue.start()
  process.stdout.write('ready\n')
}
