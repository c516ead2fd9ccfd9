/**
 * Long-running local processes that outlive the task that started them (a real node's etcd,
 * kube-apiserver, containerd, kubelet, …): started in a session of their own (`setsid`, so Ctrl-C on
 * the task does not reach them) with output appended to a log file, found again by their command
 * line — the program and a state directory it mentions — never by a pid file.
 */
import { CncfdemoError } from "./errors.ts";
import { log } from "./log.ts";
import { isAlive, stopProcesses } from "./stop_processes.ts";
import { lastLines } from "./run_program.ts";
import { pollUntil } from "./wait.ts";

export interface DaemonSpec {
  /** A short name for messages and the log file: `kube-apiserver`. */
  name: string;
  /** The program's path. */
  program: string;
  args: string[];
  /** Output is appended here. */
  logFile: string;
  env?: Record<string, string>;
}

/** A running process: its pid and command line. */
export interface ProcessInfo {
  pid: number;
  argv: string[];
}

/** Processes whose argv[0] is `program` and whose command line mentions `needle`. */
export async function findProcesses(program: string, needle: string): Promise<ProcessInfo[]> {
  const found: ProcessInfo[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    try {
      const raw = await Deno.readTextFile(`/proc/${pid}/cmdline`);
      if (!raw.includes(needle)) continue;
      const argv = raw.split("\0");
      if (argv.at(-1) === "") argv.pop();
      if (argv[0] === program && isAlive(pid)) found.push({ pid, argv });
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** Starts the program detached from this process; returns its pid. */
export async function startDaemon(spec: DaemonSpec): Promise<number> {
  await Deno.mkdir(spec.logFile.slice(0, spec.logFile.lastIndexOf("/")), { recursive: true });
  log.debug(`start ${spec.name}: ${spec.program} ${spec.args.join(" ")}`);
  // setsid execs the shell in a new session (same pid); the shell execs the program (same pid).
  const child = new Deno.Command("setsid", {
    args: [
      "sh",
      "-c",
      'log=$1; shift; exec "$@" >>"$log" 2>&1 </dev/null',
      "sh",
      spec.logFile,
      spec.program,
      ...spec.args,
    ],
    ...(spec.env ? { env: spec.env } : {}),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  child.unref();
  // Reap it if it exits while we still run (otherwise a zombie would look alive to waits).
  child.status.catch(() => {});
  return child.pid;
}

/** The last lines of a log file, on one line (for errors). */
export async function logTail(file: string, n = 3): Promise<string> {
  const text = await Deno.readTextFile(file).catch(() => "");
  return lastLines(text.slice(-8_000), n) || "(no output)";
}

export interface EnsureDaemonOptions {
  /** Needle the command line must mention to be ours (a state directory). */
  owner: string;
  /** Restart even when the command line is the same (its configuration file changed). */
  restart?: boolean;
  /** Becomes true when the daemon is ready; polled until the deadline. */
  ready: () => Promise<boolean>;
  timeoutMs: number;
  progress?: (message: string) => void;
}

/**
 * Makes sure the daemon runs with exactly this command line and is ready: a running one with the
 * same command line is kept ("unchanged"), one with another command line (or `restart`) is
 * replaced, a missing one is started. Fails with the log's last lines when it exits or is not
 * ready by the deadline.
 */
export async function ensureDaemon(
  spec: DaemonSpec,
  o: EnsureDaemonOptions,
): Promise<"unchanged" | "started" | "restarted"> {
  const want = [spec.program, ...spec.args];
  const running = await findProcesses(spec.program, o.owner);
  const same = running.find((p) => p.argv.join("\0") === want.join("\0"));
  let outcome: "unchanged" | "started" | "restarted" = "started";
  let pid: number;
  if (same && !o.restart && running.length === 1) {
    pid = same.pid;
    outcome = "unchanged";
  } else {
    if (running.length) {
      o.progress?.(`restarting ${spec.name} (its configuration changed)`);
      await stopProcesses(running.map((p) => p.pid), 10_000);
      outcome = "restarted";
    }
    pid = await startDaemon(spec);
  }
  o.progress?.(`waiting for ${spec.name}`);
  await pollUntil(async () => {
    if (!isAlive(pid)) {
      throw new CncfdemoError(
        `${spec.name} exited: ${await logTail(spec.logFile)} (log: ${spec.logFile})`,
      );
    }
    return await o.ready().catch(() => false);
  }, {
    timeoutMs: o.timeoutMs,
    maxIntervalMs: 500,
    describe: () => `${spec.name} was not ready in time; its log: ${spec.logFile}`,
  });
  return outcome;
}
