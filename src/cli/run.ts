/**
 * The command line's dispatcher: finds the command, parses its flags, prints help or the version,
 * runs it, and turns any error into one clear message and an exit code (2 for usage mistakes).
 */
import { readFileSync } from 'node:fs'
import { packageRoot } from '../package-root.js'
import { parseFlags } from './args.js'
import type { Command, CommandContext } from './command.js'
import { adminCommand } from './commands/admin.js'
import { demoCommand } from './commands/demo.js'
import { cancelCommand, deleteCommand, pauseCommand, resumeCommand, retryCommand } from './commands/jobs.js'
import { migrateCommand } from './commands/migrate.js'
import { showCommand } from './commands/show.js'
import { statusCommand } from './commands/status.js'
import type { EnvironmentConfig } from './config.js'
import { type DatabaseTarget, explainError, UsageError } from './errors.js'
import { commandHelp, toolHelp } from './help.js'
import type { Output } from './output.js'
import { untilStopSignal } from './stop-signals.js'

/** Every command, in the order `conveyor --help` lists them. */
export const COMMANDS: readonly Command[] = [
  demoCommand,
  migrateCommand,
  statusCommand,
  showCommand,
  retryCommand,
  cancelCommand,
  pauseCommand,
  resumeCommand,
  deleteCommand,
  adminCommand,
]

/** This package's version, from its `package.json` (found from `src/cli`, `dist/esm/cli` and `dist/cjs/cli`). */
export function packageVersion(): string {
  const root = packageRoot(import.meta.url)
  if (!root) return 'unknown'
  const json = readFileSync(new URL('package.json', root), 'utf8')
  return (JSON.parse(json) as { version?: string }).version ?? 'unknown'
}

/** Runs `conveyor <argv...>`; resolves to the process's exit code. */
export async function runCli(
  argv: readonly string[],
  io: { readonly output: Output; readonly env: EnvironmentConfig },
): Promise<number> {
  const { output } = io
  let target: DatabaseTarget | undefined
  let stopped: Promise<string> | null = null
  const context: CommandContext = {
    env: io.env,
    output,
    useTarget: (t) => {
      target = t
    },
    untilStopped: () => {
      stopped ??= untilStopSignal(output)
      return stopped
    },
  }
  try {
    const [first, ...rest] = argv
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      const command = first === 'help' && rest[0] !== undefined ? findCommand(rest[0]) : undefined
      output.line(command ? commandHelp(command) : toolHelp(COMMANDS, packageVersion()))
      return 0
    }
    if (first === '--version' || first === '-v' || first === 'version') {
      output.line(packageVersion())
      return 0
    }
    if (first.startsWith('-')) throw new UsageError(`unknown option ${first}: put the command first`)
    const command = findCommand(first)
    const values = parseFlags(command, rest)
    if (values.help === true) {
      output.line(commandHelp(command))
      return 0
    }
    return await command.run(values, context)
  } catch (error) {
    const { message, exitCode } = explainError(error, target)
    output.error(message)
    return exitCode
  }
}

function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name)
  if (command) return command
  const near = COMMANDS.find((c) => c.name.startsWith(name.slice(0, 3)))
  throw new UsageError(
    `unknown command "${name}"${near ? ` (did you mean \`conveyor ${near.name}\`?)` : ''}; commands: ${COMMANDS.map((c) => c.name).join(', ')}`,
  )
}
