/**
 * Test support: a containerd of the test's own — root, state and socket in a temporary directory,
 * no CRI, no TCP listener — for running images with `ctr` without a kubelet (the image builds'
 * and the BOINC image's tests). `stop()` ends it; the caller removes the directory.
 */
import type { Resolved } from "../../lib/binaries.ts";
import { run } from "../../lib/run_program.ts";
import { pollUntil } from "../../lib/wait.ts";

/**
 * `ctr run` flags dropping every capability containerd grants by default, as `capabilities: {drop:
 * [ALL]}` does in the cluster.
 */
export const DROP_ALL_DEFAULT_CAPS: readonly string[] = [
  "CHOWN",
  "DAC_OVERRIDE",
  "FSETID",
  "FOWNER",
  "MKNOD",
  "NET_RAW",
  "SETGID",
  "SETUID",
  "SETFCAP",
  "SETPCAP",
  "NET_BIND_SERVICE",
  "SYS_CHROOT",
  "KILL",
  "AUDIT_WRITE",
].flatMap((cap) => ["--cap-drop", `CAP_${cap}`]);

export interface Containerd {
  dir: string;
  socket: string;
  ctr(
    args: string[],
    allowFailure?: boolean,
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  /** `ctr run` options keeping runc's state and the FIFOs in the test's directory, no cgroup. */
  runOptions: string[];
  stop(): Promise<void>;
}

/** Starts a containerd with the given binaries; its files go to a new directory named by `prefix`. */
export async function startContainerd(
  bins: Resolved,
  prefix = "cncfdemo-containerd-",
): Promise<Containerd> {
  const dir = await Deno.makeTempDir({ prefix });
  const socket = `${dir}/containerd.sock`;
  const config = `version = 3
root = "${dir}/root"
state = "${dir}/state"
imports = []
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.cri.v1.images",
  "io.containerd.cri.v1.runtime",
  "io.containerd.podsandbox.controller.v1.podsandbox",
  "io.containerd.sandbox.controller.v1.shim",
]
[grpc]
  address = "${socket}"
  tcp_address = ""
[ttrpc]
  address = "${socket}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
`;
  await Deno.writeTextFile(`${dir}/config.toml`, config);
  const dirOf = (p: string) => p.slice(0, p.lastIndexOf("/"));
  const path = [
    dirOf(bins.paths["containerd-shim-runc-v2"]),
    dirOf(bins.paths.runc),
    "/usr/sbin:/usr/bin:/sbin:/bin",
  ].join(":");
  const child = new Deno.Command(bins.paths.containerd, {
    args: ["--config", `${dir}/config.toml`],
    env: { PATH: path },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // containerd's output goes to its log file in the test's directory
  const sink = await Deno.open(`${dir}/containerd.log`, { write: true, create: true });
  const drained = Promise.all([
    child.stdout.pipeTo(sink.writable, { preventClose: true }).catch(() => {}),
    child.stderr.pipeTo(sink.writable, { preventClose: true }).catch(() => {}),
  ]).finally(() => sink.close());
  const ctr = (args: string[], allowFailure = false) =>
    run(bins.paths.ctr, ["--address", socket, "--namespace", "k8s.io", ...args], {
      allowFailure,
    });
  const c: Containerd = {
    dir,
    socket,
    ctr,
    runOptions: ["--cgroup", "", "--runc-root", `${dir}/runc`, "--fifo-dir", `${dir}/fifo`],
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already ended
      }
      await child.status;
      await drained;
    },
  };
  try {
    await pollUntil(async () => (await ctr(["version"], true)).code === 0, {
      timeoutMs: 20_000,
      describe: () => `containerd did not answer on ${socket} (log: ${dir}/containerd.log)`,
    });
  } catch (err) {
    await c.stop();
    throw err;
  }
  return c;
}
