/**
 * Progress of long work: a counter that rewrites one line on a terminal (`\r`), and prints plain
 * lines (at most one per tenth of the work) when the output goes to a file or a pipe.
 */
import type { Output } from './output.js'

/** A running counter of `total` steps. */
export interface Progress {
  /** Reports that `done` steps out of the total are finished. */
  update(done: number): void
  /** Ends the counter with a final line (`summary`, or the last count). */
  finish(summary?: string): void
}

/** Starts a counter printed as `<label> <done>/<total>`. */
export function startProgress(output: Output, label: string, total: number): Progress {
  let lastTenth = -1
  let last = 0
  const text = (done: number) => `${label} ${done}/${total}`
  return {
    update(done) {
      last = done
      if (output.interactive) {
        output.raw(`\r${text(done)}\x1b[K`)
        return
      }
      const tenth = total === 0 ? 10 : Math.floor((done / total) * 10)
      if (tenth === lastTenth) return
      lastTenth = tenth
      output.line(text(done))
    },
    finish(summary) {
      if (output.interactive) output.raw(`\r\x1b[K`)
      else if (summary === undefined && lastTenth === 10) return
      output.line(summary ?? text(last))
    },
  }
}

/** Formats a count with thousands separators (`12,345`). */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US')
}
