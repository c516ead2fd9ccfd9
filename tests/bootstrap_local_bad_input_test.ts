/**
 * bootstrap:local and teardown when things are not as they should be: bad input and an unfit host
 * get one line each, a non-zero exit and nothing left on the host; a bootstrap killed half-way is
 * cleaned up by teardown. Needs Linux and root (CI runs as root); skipped otherwise.
 */
import assert from "node:assert/strict";
import { run } from "../lib/run_program.ts";
import { canRunLocal, holdRealNode } from "./support/local_cluster.ts";
import { hostSnapshot } from "./support/host_snapshot.ts";
import { sandbox } from "./support/env.ts";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test({
  name: "bootstrap:local refuses bad input and an unfit host in one line, leaving nothing behind",
  ignore: !canRunLocal,
}, async (t) => {
  using _node = await holdRealNode();
  const sb = await sandbox();
  const name = `lb${crypto.randomUUID().slice(0, 6)}`;
  const stateDir = `${sb.env.CNCFDEMO_STATE_DIR}/local/${name}`;
  const before = await hostSnapshot(stateDir);
  const base = ["--name", name, "--images", "offline"];
  /** Runs bootstrap:local; the whole of stderr must be the one expected line. */
  const refused = async (args: string[], code: number, line: RegExp) => {
    const r = await sb.task("bootstrap_local.ts", [...base, ...args]);
    assert.equal(r.code, code, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr.trim(), line);
  };
  try {
    await t.step("not root", async () => {
      const out = await sb.taskAsNobody("bootstrap_local.ts", base);
      const stderr = out.stderr.trim();
      assert.equal(out.code, 1, stderr);
      assert.equal(
        stderr,
        "error: bootstrap:local runs a real node (kubelet, containerd, bridge and nftables rules on this machine) and needs root: run it with sudo (like minikube's none driver)",
      );
    });

    await t.step("an unknown --images value", async () => {
      await refused(
        ["--images", "docker"],
        2,
        /^error: Cannot parse --images "docker": expected one of offline, pull$/,
      );
    });

    await t.step("a pod CIDR overlapping a host route", async () => {
      // A veth pair holding a route of its own (some kernels have no dummy links).
      const dummy = `${name}d`;
      await run("ip", ["link", "add", dummy, "type", "veth", "peer", "name", `${name}p`]);
      try {
        await run("ip", ["addr", "add", "10.123.45.1/24", "dev", dummy]);
        await run("ip", ["link", "set", dummy, "up"]);
        await run("ip", ["link", "set", `${name}p`, "up"]);
        await refused(
          ["--pod-cidr", "10.123.0.0/16"],
          2,
          new RegExp(
            `^error: --pod-cidr 10\\.123\\.0\\.0/16 overlaps the host's route to 10\\.123\\.45\\.0/24 \\(dev ${dummy}\\): choose a block this machine does not use`,
          ),
        );
      } finally {
        await run("ip", ["link", "del", dummy]);
      }
    });

    await t.step("pod and service CIDRs that overlap each other", async () => {
      await refused(
        ["--pod-cidr", "10.96.0.0/16", "--service-cidr", "10.96.0.0/20"],
        2,
        /^error: --pod-cidr 10\.96\.0\.0\/16 overlaps --service-cidr 10\.96\.0\.0\/20: choose blocks that do not overlap$/,
      );
    });

    await t.step("the API port in use", async () => {
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      try {
        const port = (listener.addr as Deno.NetAddr).port;
        await refused(
          ["--api-port", String(port)],
          2,
          new RegExp(
            `^error: Port ${port}, which kube-apiserver \\(--api-port\\) needs, is already in use on 127\\.0\\.0\\.1 by deno \\(pid ${Deno.pid}\\): stop it or pass another --api-port$`,
          ),
        );
      } finally {
        listener.close();
      }
    });

    await t.step(
      "nothing is left on the host, and teardown of what was never made is fine",
      async () => {
        assert.deepEqual(await hostSnapshot(stateDir), before);
        await assert.rejects(Deno.stat(stateDir), Deno.errors.NotFound);
        const down = await sb.task("teardown.ts", ["--provider", "local", "--name", name]);
        assert.equal(down.code, 0, down.stderr);
        assert.match(down.stderr, /no processes/);
        assert.deepEqual(await hostSnapshot(stateDir), before);
      },
    );
  } finally {
    await sb.task("teardown.ts", ["--provider", "local", "--name", name]);
    await sb.cleanup();
  }
});

Deno.test({
  name: "a bootstrap:local killed half-way is cleaned up by teardown",
  ignore: !canRunLocal,
}, async () => {
  using _node = await holdRealNode();
  const sb = await sandbox();
  const name = `lk${crypto.randomUUID().slice(0, 6)}`;
  const stateDir = `${sb.env.CNCFDEMO_STATE_DIR}/local/${name}`;
  const before = await hostSnapshot(stateDir);
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}tasks/bootstrap_local.ts`, "--name", name, "--images", "offline"],
      env: sb.env,
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // Killed once the control plane and containerd run, before the node and the add-ons.
    let seen = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      seen += chunk;
      if (/✓ Start \(/.test(seen)) break;
    }
    child.kill("SIGKILL");
    await child.status;
    assert.match(seen, /✓ Start \(/, seen);
    const left = await hostSnapshot(stateDir);
    assert.ok(left.processes.length >= 5, `the daemons outlive the task: ${left.processes}`);
    assert.ok(left.links.includes("cncfdemo0"));

    const down = await sb.task("teardown.ts", ["--provider", "local", "--name", name]);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(await hostSnapshot(stateDir), before);
  } finally {
    await sb.task("teardown.ts", ["--provider", "local", "--name", name]);
    await sb.cleanup();
  }
});
