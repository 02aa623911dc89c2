#!/usr/bin/env node
/**
 * Turns the figures the reliability scenarios wrote to `reliability-results/*.json` into the table
 * between the `<!-- results:start -->` and `<!-- results:end -->` markers of RELIABILITY.md.
 *
 *   node scripts/reliability-report.mjs            # rewrite RELIABILITY.md's table
 *   node scripts/reliability-report.mjs --print    # print the table only
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const resultsDir = `${root}reliability-results`
const docPath = `${root}RELIABILITY.md`
const START = '<!-- results:start -->'
const END = '<!-- results:end -->'

/** Reads every scenario's figures, sorted by scenario name. */
function readResults() {
  let files
  try {
    files = readdirSync(resultsDir).filter((f) => f.endsWith('.json'))
  } catch {
    return []
  }
  return files
    .map((f) => ({ file: f, ...JSON.parse(readFileSync(`${resultsDir}/${f}`, 'utf8')) }))
    .sort((a, b) => String(a.scenario).localeCompare(String(b.scenario)))
}

const cell = (value) => (value === undefined || value === null ? '–' : String(value).replaceAll('|', '\\|'))

/** The Markdown table of all scenarios. */
function table(results) {
  const lines = [
    '| Scenario | Scale | Rounds | Faults injected | Jobs | Lost | Doubled | Duration | Notes |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|',
  ]
  for (const r of results) {
    const seconds = typeof r.durationMs === 'number' ? `${(r.durationMs / 1000).toFixed(1)} s` : undefined
    lines.push(
      `| ${cell(r.scenario)} | ${cell(r.scale)} | ${cell(r.rounds)} | ${cell(r.faultsInjected)} | ${cell(r.jobs)} | ${cell(r.lost)} | ${cell(r.doubled)} | ${cell(seconds)} | ${cell(r.notes)} |`,
    )
  }
  return lines.join('\n')
}

const results = readResults()
if (results.length === 0) {
  console.error('No results in reliability-results/: run `npm run reliability` first.')
  process.exit(1)
}
const rendered = `${table(results)}\n\nGenerated ${new Date().toISOString()} from reliability-results/ by scripts/reliability-report.mjs.`
if (process.argv.includes('--print')) {
  console.log(rendered)
} else {
  const doc = readFileSync(docPath, 'utf8')
  const start = doc.indexOf(START)
  const end = doc.indexOf(END)
  if (start < 0 || end < start) {
    console.error(`RELIABILITY.md has no ${START} ... ${END} block to fill.`)
    process.exit(1)
  }
  writeFileSync(docPath, `${doc.slice(0, start + START.length)}\n${rendered}\n${doc.slice(end)}`)
  console.log(`RELIABILITY.md: table of ${results.length} scenarios written.`)
}
