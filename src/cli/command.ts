/** What every command is: a specification (name, help, flags) and a function that runs it. */
import type { CommandSpec, FlagValues } from './args.js'
import type { EnvironmentConfig } from './config.js'
import type { DatabaseTarget } from './errors.js'
import type { Output } from './output.js'

/** What a command receives besides its flags. */
export interface CommandContext {
  readonly env: EnvironmentConfig
  readonly output: Output
  /** Records which database the command uses, so errors can name it and suggest the right flags. */
  useTarget(target: DatabaseTarget): void
  /**
   * Resolves with the signal's name at the first SIGINT or SIGTERM (installing the handlers on the
   * first call); a second signal ends the process at once, unless it came within a second of the
   * first (the same Ctrl-C relayed by npm).
   */
  untilStopped(): Promise<string>
}

/** A command of the tool. */
export interface Command extends CommandSpec {
  /** Runs the command; resolves to the exit code. */
  run(values: FlagValues, context: CommandContext): Promise<number>
}
