/**
 * Test support: a real single-node cluster on this machine (`bootstrap:local --images offline`) in
 * its own sandbox, always torn down afterwards — after which the host must be as it was before.
 * One local cluster runs per machine: tests using this run one after the other.
 */
import assert from "node:assert/strict";
import { connectKube, type Kube } from "../../lib/kube/client.ts";
import { lockFile } from "../../lib/file_lock.ts";
import { type Sandbox, sandbox, type TaskResult } from "./env.ts";
import { hostSnapshot } from "./host_snapshot.ts";

export interface LocalCluster {
  sb: Sandbox;
  name: string;
  kube: Kube;
}

/** Linux and root: what a real node needs (CI runs as root). */
export const canRunLocal = Deno.build.os === "linux" && Deno.uid() === 0;

/**
 * Holds the machine's one real node for a test: an exclusive lock on a file every real-node test
 * takes first, so test runs from several checkouts queue instead of refusing each other. Released
 * when the returned file is disposed (`using node = await holdRealNode()`) or the process ends.
 */
export function holdRealNode(): Promise<Deno.FsFile> {
  return lockFile("/tmp/cncfdemo-real-node-tests.lock", () => {});
}

/** Runs `bootstrap:local --images offline` in the sandbox (a generous deadline for cold caches). */
export async function bootstrapLocal(
  sb: Sandbox,
  name: string,
  args: string[] = [],
): Promise<TaskResult> {
  return await sb.task("bootstrap_local.ts", [
    "--name",
    name,
    "--images",
    "offline",
    "--timeout",
    "15m",
    ...args,
  ]);
}

/** Runs `fn` against a fresh local cluster made with the given extra bootstrap:local arguments. */
export async function withLocalCluster(
  args: string[],
  fn: (c: LocalCluster) => Promise<void>,
): Promise<void> {
  using _node = await holdRealNode();
  const sb = await sandbox();
  const name = `lc${crypto.randomUUID().slice(0, 6)}`;
  const stateDir = `${sb.env.CNCFDEMO_STATE_DIR}/local/${name}`;
  const before = await hostSnapshot(stateDir);
  let kube: Kube | undefined;
  let down = { code: 0, stderr: "" };
  try {
    const up = await bootstrapLocal(sb, name, args);
    if (up.code !== 0) throw new Error(`bootstrap:local failed: ${up.stderr}`);
    kube = await connectKube({ kubeconfig: sb.kubeconfig });
    await fn({ sb, name, kube });
  } finally {
    kube?.close();
    down = await sb.task("teardown.ts", ["--provider", "local", "--name", name]);
    await sb.cleanup();
  }
  // Checked after the finally block so that a failing test's own error is not masked.
  if (down.code !== 0) throw new Error(`teardown failed: ${down.stderr}`);
  assert.deepEqual(await hostSnapshot(stateDir), before, "teardown left the host as it was");
}
