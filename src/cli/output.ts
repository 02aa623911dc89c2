/** Where the command line writes: standard output for results, standard error for problems. */

/** The streams a command writes to, and whether a person watches standard output. */
export interface Output {
  /** Writes one line of results or progress to standard output. */
  line(text?: string): void
  /** Writes one line about a problem to standard error. */
  error(text: string): void
  /** Writes text to standard output as is (for `\r` progress lines). */
  raw(text: string): void
  /** True when standard output is a terminal, so progress may rewrite its line. */
  readonly interactive: boolean
}

/**
 * The process's own standard output and error. When the reader of a stream goes away
 * (`conveyor status | head -1`), writes to it fail with EPIPE: from then on that stream's output is
 * dropped and the command finishes as it would have, quietly, as Unix tools do; a long-running
 * command keeps running and still stops at Ctrl-C. Any other write error is thrown as before.
 */
export function processOutput(): Output {
  const out = dropAfterReaderGone(process.stdout)
  const err = dropAfterReaderGone(process.stderr)
  return {
    line: (text = '') => out(`${text}\n`),
    error: (text) => err(`${text}\n`),
    raw: out,
    interactive: process.stdout.isTTY === true,
  }
}

/** A writer to `stream` that stops writing once the stream has failed with EPIPE. */
function dropAfterReaderGone(stream: NodeJS.WriteStream): (text: string) => void {
  let readerGone = false
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
    readerGone = true
  })
  return (text) => {
    if (!readerGone) stream.write(text)
  }
}
