/**
 * One error hierarchy for every task, and the one place that prints errors.
 *
 * - {@link CncfdemoError}: an expected failure (exit code 1) with a one-line message that says what
 *   is wrong and what to do.
 * - {@link UsageError}: bad command-line input (exit code 2).
 * - anything else is a bug: printed as one line too, with the stack only under `--verbose`.
 */
import { log, setVerbose } from "./log.ts";

export class CncfdemoError extends Error {
  readonly exitCode: number = 1;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input on the command line or in values files. Exit code 2. */
export class UsageError extends CncfdemoError {
  override readonly exitCode = 2;
}

/** Raised by `--help`: not a failure; the help text has been printed. */
export class HelpShown extends CncfdemoError {
  override readonly exitCode = 0;
  constructor() {
    super("help shown");
  }
}

/** A wait that ran out of time; the message names what was still not ready. */
export class TimeoutError extends CncfdemoError {}

/** The message of any thrown value, flattened to one line. */
export function errorMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/** The exit code that goes with an error. */
export function exitCodeOf(err: unknown): number {
  return err instanceof CncfdemoError ? err.exitCode : 1;
}

/**
 * The text printed for an error: `error: <one line>`; with `verbose`, the stack and causes follow.
 * Unexpected errors (not a CncfdemoError) are marked as such so users can report them.
 */
export function formatError(err: unknown, verbose: boolean): string {
  const expected = err instanceof CncfdemoError;
  let line = `error: ${errorMessage(err)}`;
  if (!expected && !verbose) line += " (unexpected; run again with --verbose for details)";
  if (!verbose) return line;
  const parts = [line];
  let cur: unknown = err;
  while (cur instanceof Error) {
    if (cur.stack) parts.push(cur.stack);
    cur = cur.cause;
    if (cur !== undefined) parts.push("caused by:");
  }
  if (cur !== undefined && !(cur instanceof Error)) parts.push(String(cur));
  return parts.join("\n");
}

/** True when `--verbose` is among the raw arguments or CNCFDEMO_VERBOSE is set. */
export function wantsVerbose(args: readonly string[]): boolean {
  const env = Deno.env.get("CNCFDEMO_VERBOSE");
  return args.includes("--verbose") || (env !== undefined && env !== "" && env !== "0");
}

/**
 * Runs a task's `main` and turns its outcome into an exit code; the only place errors are printed.
 * `main` may return an exit code (default 0).
 */
export async function runMain(
  main: (args: string[]) => Promise<number | void>,
  args: string[] = Deno.args,
): Promise<never> {
  const verbose = wantsVerbose(args);
  setVerbose(verbose);
  let code = 0;
  try {
    code = (await main(args)) ?? 0;
  } catch (err) {
    code = exitCodeOf(err);
    if (!(err instanceof HelpShown)) log.error(formatError(err, verbose));
  }
  Deno.exit(code);
}
