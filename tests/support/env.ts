/**
 * Test support: an isolated environment for running tasks as subprocesses — a temporary HOME-like
 * directory with its own KUBECONFIG and CNCFDEMO_STATE_DIR, sharing the binary cache.
 */
import { cacheDir } from "../../lib/paths.ts";

export interface Sandbox {
  dir: string;
  kubeconfig: string;
  env: Record<string, string>;
  /** Runs `deno run -A tasks/<file>` with args; returns exit code and output. */
  task(file: string, args: string[], extraEnv?: Record<string, string>): Promise<TaskResult>;
  /**
   * The same as a user that is not root: uid 65534 (nobody) in a user namespace of its own (the
   * files stay readable: it maps to the caller outside). Needs root, or unprivileged namespaces.
   */
  taskAsNobody(file: string, args: string[]): Promise<TaskResult>;
  cleanup(): Promise<void>;
}

export interface TaskResult {
  code: number;
  stdout: string;
  stderr: string;
}

const ROOT = new URL("../../", import.meta.url).pathname;

export interface SandboxOptions {
  /** Extra environment for every task run (e.g. AWS_ENDPOINT_URL of a test moto_server). */
  env?: Record<string, string>;
}

async function runTask(
  program: string,
  args: string[],
  env: Record<string, string>,
): Promise<TaskResult> {
  const out = await new Deno.Command(program, {
    args,
    env,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A fresh sandbox; call `cleanup()` when done. */
export async function sandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-test-" });
  const kubeconfig = `${dir}/kube/config`;
  const env: Record<string, string> = {
    KUBECONFIG: kubeconfig,
    CNCFDEMO_STATE_DIR: `${dir}/state`,
    CNCFDEMO_CACHE_DIR: cacheDir(),
    // Records of bootstraps and rollouts (deno task report) stay in the sandbox.
    CNCFDEMO_RESULTS_DIR: `${dir}/records`,
    CI: "1",
    NO_COLOR: "1",
    ...options.env,
  };
  return {
    dir,
    kubeconfig,
    env,
    task(file, args, extraEnv = {}) {
      return runTask(Deno.execPath(), ["run", "-A", `${ROOT}tasks/${file}`, ...args], {
        ...env,
        ...extraEnv,
      });
    },
    taskAsNobody(file, args) {
      return runTask("unshare", [
        "--user",
        "--map-user=65534",
        "--map-group=65534",
        Deno.execPath(),
        "run",
        "-A",
        `${ROOT}tasks/${file}`,
        ...args,
      ], env);
    },
    async cleanup() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
