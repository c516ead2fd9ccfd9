/**
 * Logging for every task: human-readable lines on stderr (stdout stays free for data such as
 * rendered manifests). Debug lines appear only with `--verbose`.
 */
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

function write(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const data = encoder.encode(text.endsWith("\n") ? text : text + "\n");
  let off = 0;
  while (off < data.length) off += stream.writeSync(data.subarray(off));
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
