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

/** The process's own standard output and error. */
export function processOutput(): Output {
  return {
    line: (text = '') => void process.stdout.write(`${text}\n`),
    error: (text) => void process.stderr.write(`${text}\n`),
    raw: (text) => void process.stdout.write(text),
    interactive: process.stdout.isTTY === true,
  }
}
