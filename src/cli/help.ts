/** Help texts: the whole tool's (`conveyor --help`) and each command's (`conveyor <command> --help`). */
import { type CommandSpec, HELP_OPTION, type OptionSpec } from './args.js'
import { PGLITE_INSTALL } from './database-settings.js'
import { FASTIFY_INSTALL } from './optional-packages.js'

/** The help of one command: usage, details, flags and examples. */
export function commandHelp(spec: CommandSpec): string {
  const options: [string, OptionSpec][] = [...Object.entries(spec.options), ['help', HELP_OPTION]]
  const labels = options.map(([name, o]) => {
    const short = o.short ? `-${o.short}, ` : '    '
    return `${short}--${name}${o.value ? ` ${o.value}` : ''}${o.multiple ? ' ...' : ''}`
  })
  const width = Math.max(...labels.map((l) => l.length)) + 2
  const lines = [
    `conveyor ${spec.name}: ${spec.summary}`,
    '',
    `Usage: conveyor ${spec.name} [options]`,
    ...(spec.details ?? []).flatMap((paragraph) => ['', paragraph]),
    '',
    'Options:',
    ...options.map(([, o], i) => `  ${(labels[i] ?? '').padEnd(width)}${o.description}`),
  ]
  if (spec.examples && spec.examples.length > 0) {
    lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`))
  }
  return lines.join('\n')
}

/** The help of the whole tool: the commands and the global flags. */
export function toolHelp(commands: readonly CommandSpec[], version: string): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2
  return [
    `conveyor ${version}: background jobs on PostgreSQL`,
    '',
    'Usage: conveyor <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Options:',
    "  -h, --help     show this help (or a command's: conveyor <command> --help)",
    '  -v, --version  print the version',
    '',
    'The database comes from --database-url or DATABASE_URL (postgres://user:password@host:5432/db);',
    '--data-dir <dir> uses an embedded PostgreSQL (PGlite) stored in <dir> instead, like the demo;',
    'add --create to make a new one there (a folder without a database is refused without it).',
    '',
    'Exit codes: 0 done; 1 failed (the message on standard error says why and what to do), or an --id of',
    'retry/cancel was not found; 2 a usage mistake. Long-running commands stop gracefully on Ctrl-C;',
    'a second Ctrl-C, a second or more later, stops them at once.',
    '',
    'Start here: conveyor demo (it serves the admin page with fastify, and without DATABASE_URL runs an',
    `embedded PostgreSQL; an application installs them first: ${FASTIFY_INSTALL} and`,
    `${PGLITE_INSTALL})`,
  ].join('\n')
}
