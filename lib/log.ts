/**
 * Logging for every task, and the one writer to the terminal: human-readable lines on stderr
 * (stdout stays free for data such as rendered manifests). Debug lines appear only with
 * `--verbose`.
 *
 * Spinners (dax progress bars, see {@link spinner}) redraw the last lines of the terminal; a line
 * written straight to stderr while they draw would be overwritten or cut ("created 3created").
 * So once a spinner exists, every line — stderr and stdout alike — is written through dax's
 * logger, which clears the spinners, writes the line and draws them again below it.
 */
import type { $Type, ProgressBar } from "dax";

let verbose = false;
const encoder = new TextEncoder();

/** Turns debug output on or off (set once by the top-level handler). */
export function setVerbose(on: boolean): void {
  verbose = on;
}

/** Whether `--verbose` is on. */
export function isVerbose(): boolean {
  return verbose;
}

/** A dax instance whose info logger performs {@link pending}: set once the first spinner exists. */
let terminal: $Type | undefined;
let pending: (() => void) | undefined;

function write(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const data = encoder.encode(text.endsWith("\n") ? text : text + "\n");
  const put = () => {
    let off = 0;
    while (off < data.length) off += stream.writeSync(data.subarray(off));
  };
  if (!terminal) return put();
  // dax's loggers run inside its "clear the spinners, write, draw them again".
  pending = put;
  try {
    terminal.log("");
  } finally {
    pending = undefined;
  }
}

/** Whether stderr is an interactive terminal (spinners only then). */
export function isInteractive(): boolean {
  if (Deno.env.get("CI")) return false;
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}

/**
 * A spinner on the terminal's last lines (`prefix message`), until `finish()`. Loads dax on first
 * use (only interactive runs need it); from then on every line is written around the spinners.
 */
export async function spinner(prefix: string): Promise<ProgressBar> {
  if (!terminal) {
    const { build$ } = await import("dax");
    const t = build$();
    t.setInfoLogger(() => pending?.());
    terminal = t;
  }
  return terminal.progress({ prefix });
}

export const log = {
  info(text: string): void {
    write(Deno.stderr, text);
  },
  warn(text: string): void {
    write(Deno.stderr, `warning: ${text}`);
  },
  error(text: string): void {
    write(Deno.stderr, text);
  },
  debug(text: string): void {
    if (verbose) write(Deno.stderr, `debug: ${text}`);
  },
  /** Data for the user or for pipes: goes to stdout. */
  out(text: string): void {
    write(Deno.stdout, text);
  },
};
