/**
 * Test support: a simulated cluster in its own sandbox, created with `bootstrap:sim` and always
 * torn down afterwards, and a client connected to it.
 */
import { connectKube, type Kube } from "../../lib/kube/client.ts";
import { type Sandbox, sandbox } from "./env.ts";

export interface SimCluster {
  sb: Sandbox;
  name: string;
  kube: Kube;
}

/** Runs `fn` against a fresh simulated cluster created with the given bootstrap:sim arguments. */
export async function withSimCluster(
  args: string[],
  fn: (c: SimCluster) => Promise<void>,
): Promise<void> {
  const sb = await sandbox();
  const name = `t-${crypto.randomUUID().slice(0, 6)}`;
  let kube: Kube | undefined;
  let down = { code: 0, stderr: "" };
  try {
    const up = await sb.task("bootstrap_sim.ts", ["--name", name, ...args]);
    if (up.code !== 0) throw new Error(`bootstrap:sim failed: ${up.stderr}`);
    kube = await connectKube({ kubeconfig: sb.kubeconfig });
    await fn({ sb, name, kube });
  } finally {
    kube?.close();
    down = await sb.task("teardown.ts", ["--provider", "sim", "--name", name]);
    await sb.cleanup();
  }
  // Checked after the finally block so that a failing test's own error is not masked.
  if (down.code !== 0) throw new Error(`teardown failed: ${down.stderr}`);
}
