/**
 * Running external programs (go, kwokctl, kubectl, wrk): output captured line by line, a one-line
 * error naming the program and its last complaint when it fails, and a clear message when the
 * program is not installed.
 */
import { CncfdemoError } from "./errors.ts";
import { log } from "./log.ts";

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Called with each line of stdout and stderr as it arrives. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** Text fed to stdin. */
  stdin?: string;
  /** How to install the program, for the "not found" message. */
  installHint?: string;
  signal?: AbortSignal;
  /** Do not throw on a non-zero exit. */
  allowFailure?: boolean;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function pump(
  stream: ReadableStream<Uint8Array>,
  which: "stdout" | "stderr",
  sink: string[],
  onLine?: RunOptions["onLine"],
): Promise<void> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    sink.push(chunk);
    if (!onLine) continue;
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      onLine(buf.slice(0, nl), which);
      buf = buf.slice(nl + 1);
    }
  }
  if (onLine && buf) onLine(buf, which);
}

/** The last non-empty lines of a program's output, joined on one line. */
export function lastLines(text: string, n = 3): string {
  return text.split("\n").map((l) => l.trim()).filter(Boolean).slice(-n).join(" | ");
}

/** Runs a program to completion. Throws a one-line CncfdemoError when it is missing or fails. */
export async function run(
  cmd: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  log.debug(`run: ${cmd} ${args.join(" ")}`);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args: [...args],
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.env ? { env: options.env } : {}),
      stdin: options.stdin !== undefined ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      ...(options.signal ? { signal: options.signal } : {}),
    }).spawn();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new CncfdemoError(
        `Cannot run ${cmd}: it is not installed or not on PATH${
          options.installHint ? `; ${options.installHint}` : ""
        }`,
      );
    }
    throw err;
  }
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out: string[] = [];
  const errs: string[] = [];
  const [status] = await Promise.all([
    child.status,
    pump(child.stdout, "stdout", out, options.onLine),
    pump(child.stderr, "stderr", errs, options.onLine),
  ]);
  const result = { code: status.code, stdout: out.join(""), stderr: errs.join("") };
  if (status.code !== 0 && !options.allowFailure) {
    const name = cmd.split("/").pop();
    const why = lastLines(result.stderr) || lastLines(result.stdout) || `exit code ${status.code}`;
    throw new CncfdemoError(`${name} ${args[0] ?? ""} failed: ${why}`.replace(/\s+/g, " "));
  }
  return result;
}

/** Whether a program can be found on PATH (or at the given path). */
export async function hasProgram(cmd: string): Promise<boolean> {
  try {
    const { code } = await new Deno.Command(cmd.includes("/") ? cmd : "sh", {
      args: cmd.includes("/") ? ["--version"] : ["-c", `command -v ${cmd}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return cmd.includes("/") ? true : code === 0;
  } catch {
    return false;
  }
}
