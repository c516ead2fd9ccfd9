/**
 * BOINC as the cluster runs it, in a real container: the image `bake --target images` builds
 * (Debian's boinc-client, images/boinc/), imported into a containerd started here (its own root,
 * state and socket in a temporary directory, no CRI, no TCP listener), run with the rendered pod's
 * settings — the image's user 10001, every capability dropped, a read-only root, the data
 * directory as an empty volume, the rendered start script, the account key as a file — in a
 * network namespace of its own (loopback only: nothing leaves the machine).
 *
 * The start script execs the client: boinc is the container's PID 1, owns and writes its data
 * directory, reads <ncpus> from cc_config.xml, holds the account file (mode 0600) and never the
 * key on its command line or in its environment; SIGTERM ends it with exit code 0 well within the
 * pod's grace period.
 *
 * Ignored when not root, or without the containerd binaries (`deno task binaries`) or debootstrap
 * (the image is built offline when it is not cached).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type BinaryName, resolveBinaries } from "../lib/binaries.ts";
import { ensureImageArchives, importImages } from "../lib/container_images.ts";
import { mountsUnder } from "../lib/mounts.ts";
import { exists } from "../lib/paths.ts";
import { hasProgram, run } from "../lib/run_program.ts";
import { processesMentioning, stopProcesses } from "../lib/stop_processes.ts";
import { renderStack } from "../lib/stack/render.ts";
import { resolveValues } from "../lib/stack/values.ts";
import { pollUntil, withTimeout } from "../lib/wait.ts";
import { DROP_ALL_DEFAULT_CAPS, startContainerd } from "./support/containerd.ts";

const RUNTIME: BinaryName[] = ["containerd", "containerd-shim-runc-v2", "ctr", "runc"];
const bins = await resolveBinaries(RUNTIME, { noBuild: true }).catch(() => undefined);
const why = Deno.uid() !== 0
  ? "needs root (containers)"
  : !bins
  ? "needs containerd, its shim, ctr and runc in the cache (deno task binaries)"
  : !(await hasProgram("debootstrap"))
  ? "needs debootstrap to build the BOINC image (apt-get install debootstrap)"
  : undefined;
const ignored = why ? ` (ignored: ${why})` : "";

const KEY = "0123456789abcdef0123456789abcdef";
const ID = "boinc-test-1";

// deno-lint-ignore no-explicit-any
type Any = any;

Deno.test({
  name:
    `BOINC's image runs the rendered pod: PID 1, its own data, <ncpus>, a clean SIGTERM${ignored}`,
  ignore: why !== undefined,
  async fn() {
    // built by the tests' preflight as root (or here, the first time)
    const [archive] = await ensureImageArchives(["boinc"]);
    const objects = await renderStack(
      await resolveValues([], [`boinc.accountKey=${KEY}`]),
      { grafanaAdminPassword: "p", countlyAppKey: "k" },
    );
    const deployment = objects.find((o) =>
      o.kind === "Deployment" && o.metadata.name === "boinc"
    ) as Any;
    const script = (objects.find((o) =>
      o.kind === "ConfigMap" && o.metadata.name === "boinc"
    ) as Any)
      .data["start.sh"] as string;
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    const env = new Map<string, string>(
      container.env.filter((e: Any) => e.value !== undefined).map((e: Any) => [e.name, e.value]),
    );
    // what the downward API gives the pod: its limits, rounded up
    env.set("BOINC_NCPUS", "1");
    env.set("BOINC_MEMORY_LIMIT_MIB", "512");

    const c = await startContainerd(bins!, "cncfdemo-boinc-containerd-");
    const child: { p?: Deno.ChildProcess } = {};
    try {
      await importImages(bins!.paths.ctr, c.socket, [archive!]);
      // the pod's volumes: the data directory empty (an emptyDir is 0777), the script, the key
      const data = `${c.dir}/data`;
      await Deno.mkdir(data);
      await Deno.chmod(data, 0o777);
      await Deno.mkdir(`${c.dir}/scripts`);
      await Deno.writeTextFile(`${c.dir}/scripts/start.sh`, script);
      await Deno.mkdir(`${c.dir}/account`);
      await Deno.writeTextFile(`${c.dir}/account/account-key`, KEY);
      const mount = (src: string, dst: string, ro: boolean) => [
        "--mount",
        `type=bind,src=${src},dst=${dst},options=rbind:${ro ? "ro" : "rw"}`,
      ];
      const mountsOf = (name: string) =>
        container.volumeMounts.find((m: Any) => m.name === name).mountPath as string;
      child.p = new Deno.Command(bins!.paths.ctr, {
        args: [
          "--address",
          c.socket,
          "--namespace",
          "k8s.io",
          "run",
          "--rm",
          ...c.runOptions,
          ...DROP_ALL_DEFAULT_CAPS,
          "--read-only",
          "--user",
          `${pod.securityContext.runAsUser}:${pod.securityContext.runAsGroup}`,
          ...mount(data, mountsOf("data"), false),
          ...mount(`${c.dir}/scripts`, mountsOf("scripts"), true),
          ...mount(`${c.dir}/account`, mountsOf("account"), true),
          "--mount",
          "type=tmpfs,src=tmpfs,dst=/tmp,options=rw:nosuid:nodev:mode=1777",
          ...[...env].flatMap(([k, v]) => ["--env", `${k}=${v}`]),
          archive!.ref,
          ID,
          ...container.command,
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const output = Promise.all([
        new Response(child.p.stdout).text(),
        new Response(child.p.stderr).text(),
      ]);
      const pid = await pollUntil(async () => {
        const ls = (await c.ctr(["task", "ls"], true)).stdout;
        const m = new RegExp(`^${ID}\\s+(\\d+)\\s+RUNNING`, "m").exec(ls);
        return m ? Number(m[1]) : undefined;
      }, { timeoutMs: 30_000, describe: () => `task ${ID} is not RUNNING` });
      // the client writes its state into the data directory: it owns it, as the image's user
      await pollUntil(() => exists(`${data}/client_state.xml`), {
        timeoutMs: 60_000,
        describe: () => `the client wrote no client_state.xml in ${data}`,
      });
      // the shell exec'd the client: boinc is the container's main process, PID 1 inside
      const cmdline = (await Deno.readTextFile(`/proc/${pid}/cmdline`)).split("\0").filter(
        Boolean,
      );
      assert.deepEqual(cmdline, ["boinc", "--dir", "/var/lib/boinc"]);
      const status = await Deno.readTextFile(`/proc/${pid}/status`);
      assert.match(status, /^NSpid:\s+\d+\s+1$/m, "PID 1 in its namespace");
      assert.match(status, /^Uid:\s+10001\s/m);
      assert.match(status, /^CapEff:\s+0+$/m);
      assert.ok(!(await Deno.readTextFile(`/proc/${pid}/environ`)).includes(KEY));
      assert.ok(!cmdline.join(" ").includes(KEY));
      assert.match(await Deno.readTextFile(`${data}/cc_config.xml`), /<ncpus>1<\/ncpus>/);
      const account = `${data}/account_einstein.phys.uwm.edu.xml`;
      assert.match(
        await Deno.readTextFile(account),
        new RegExp(`<authenticator>${KEY}</authenticator>`),
      );
      assert.equal((await Deno.stat(account)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(`${data}/client_state.xml`)).uid, 10001);

      // SIGTERM, as the kubelet sends it: the client exits 0 within the pod's grace period
      await c.ctr(["task", "kill", "--signal", "SIGTERM", ID]);
      const grace = pod.terminationGracePeriodSeconds * 1_000;
      const exit = await withTimeout(
        child.p.status,
        grace,
        `boinc did not exit within the ${grace / 1000}s grace period`,
      );
      assert.equal(exit.code, 0);
      const [stdout, stderr] = await output;
      assert.match(stdout + stderr, /cncfdemo: attached to https:\/\/einstein\.phys\.uwm\.edu\//);
      assert.match(stdout + stderr, /Received signal 15/);
      assert.doesNotMatch(stdout + stderr, new RegExp(KEY));
    } finally {
      if (child.p) {
        try {
          child.p.kill("SIGKILL");
        } catch {
          // ended
        }
        await child.p.status.catch(() => {});
      }
      await c.ctr(["task", "kill", "--signal", "SIGKILL", ID], true);
      await c.ctr(["task", "delete", "--force", ID], true);
      await c.ctr(["container", "delete", ID], true);
      await c.stop();
      await stopProcesses(await processesMentioning(c.dir), 5_000);
      for (const m of await mountsUnder(c.dir)) {
        await run("umount", ["--lazy", m], { allowFailure: true });
      }
      await Deno.remove(c.dir, { recursive: true }).catch(() => {});
      const hash = createHash("sha256").update(`${c.socket}/k8s.io/${ID}`).digest("hex");
      await Deno.remove(`/run/containerd/s/${hash}`).catch(() => {});
    }
    assert.deepEqual(await processesMentioning(c.dir), [], "no process of the test is left");
    assert.deepEqual(await mountsUnder(c.dir), [], "no mount of the test is left");
  },
});
