/**
 * `bake --target images` end to end, as root: the task builds the tools, pause and bench-target
 * archives (a second run says "unchanged"), and a real containerd — started here with its own
 * root, state and socket in a temporary directory, no CRI, no TCP listener — imports them
 * (again: all unchanged) and runs them with `ctr run`: tools' curl, pause stopping with exit 0 on
 * SIGTERM, bench-target (non-root, every capability dropped) serving its page to tools in the same
 * network namespace (loopback only). Afterwards no process, mount or file of the test is left.
 *
 * Ignored when not root, or when debootstrap or the containerd binaries (`deno task binaries`) are
 * missing.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type BinaryName, resolveBinaries } from "../lib/binaries.ts";
import { ensureImageArchives, importImages } from "../lib/container_images.ts";
import { imagesCacheDir, withImagesLock } from "../lib/images/cache.ts";
import { ensureDebianBase } from "../lib/images/debian_base.ts";
import { buildDebianLayer } from "../lib/images/debian_layer.ts";
import { mountsUnder } from "../lib/mounts.ts";
import { loadRecipe } from "../lib/images/recipe.ts";
import { exists } from "../lib/paths.ts";
import { hasProgram, run } from "../lib/run_program.ts";
import { processesMentioning, stopProcesses } from "../lib/stop_processes.ts";
import { pollUntil } from "../lib/wait.ts";
import { type Containerd, DROP_ALL_DEFAULT_CAPS, startContainerd } from "./support/containerd.ts";
import { sandbox } from "./support/env.ts";

const RUNTIME: BinaryName[] = ["containerd", "containerd-shim-runc-v2", "ctr", "runc"];
const bins = await resolveBinaries(RUNTIME, { noBuild: true }).catch(() => undefined);
const why = Deno.uid() !== 0
  ? "needs root (debootstrap, chroot, overlay mounts, containers)"
  : !(await hasProgram("debootstrap"))
  ? "needs debootstrap (apt-get install debootstrap)"
  : !bins
  ? "needs containerd, its shim, ctr and runc in the cache (deno task binaries)"
  : undefined;
const ignored = why ? ` (ignored: ${why})` : "";

const NAMES = ["tools", "pause", "bench-target"];
const TOOLS = "ghcr.io/cncfdemo/tools:0.1.0";
const PAUSE = "registry.k8s.io/pause:3.10.1";
const BENCH_TARGET = "ghcr.io/cncfdemo/bench-target:0.1.0";

Deno.test({
  name:
    `bake --target images: builds tools, pause and bench-target; a second run is unchanged${ignored}`,
  ignore: why !== undefined,
  async fn() {
    const sb = await sandbox();
    try {
      const args = ["--target", "images", "--only", NAMES.join(",")];
      const first = await sb.task("bake.ts", args);
      assert.equal(first.code, 0, first.stderr);
      for (const n of NAMES) {
        assert.match(
          first.stderr,
          new RegExp(`✓ Image ${n} \\(.*\\) — (built|unchanged) \\(\\d+\\.\\d MB\\)`),
        );
      }
      const second = await sb.task("bake.ts", args);
      assert.equal(second.code, 0, second.stderr);
      for (const n of NAMES) {
        assert.match(second.stderr, new RegExp(`✓ Image ${n} \\(.*\\) — unchanged \\(`));
      }
      assert.match(second.stderr, /3 image archives \(0 built, 3 unchanged, [\d.]+ MB\)/);
      assert.ok(!second.stderr.includes("debootstrap"), second.stderr);
    } finally {
      await sb.cleanup();
    }
  },
});

Deno.test({
  name:
    `bake --target images: images without a recipe are named in one line; unknown ones refused${ignored}`,
  ignore: why !== undefined,
  async fn() {
    const sb = await sandbox();
    try {
      const pulled = await sb.task("bake.ts", ["--target", "images", "--only", "grafana"]);
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.equal(
        pulled.stderr.trim(),
        "grafana: cannot be built here: pulled from docker.io/grafana/grafana:12.1.1",
      );
      const unknown = await sb.task("bake.ts", ["--target", "images", "--only", "nginx"]);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr.trim(), /^error: Unknown image "nginx"; the catalog has pause, /);
      assert.equal(unknown.stderr.trim().split("\n").length, 1);
    } finally {
      await sb.cleanup();
    }
  },
});

Deno.test({
  name:
    `a Debian image whose package does not exist: one-line error, nothing left mounted${ignored}`,
  ignore: why !== undefined,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "cncfdemo-broken-" });
    try {
      await withImagesLock(() => {}, async () => {
        const base = await ensureDebianBase(() => {});
        const recipe = { ...(await loadRecipe("tools")), name: "cncfdemo-broken" };
        await assert.rejects(
          buildDebianLayer(base, recipe, ["cncfdemo-no-such-package"], `${out}/layer.tar.zst`, {
            compression: "zstd",
            progress: () => {},
          }),
          (err: Error) => {
            assert.match(
              err.message,
              /^apt-get install failed \(in the chroot .*\): .*Unable to locate package cncfdemo-no-such-package/,
            );
            assert.ok(!err.message.includes("\n"));
            return true;
          },
        );
        // nothing mounted, no work directory, no layer; the base and the apt caches are intact
        assert.deepEqual(await mountsUnder(imagesCacheDir()), []);
        const work = [...Deno.readDirSync(`${imagesCacheDir()}/work`)].map((e) => e.name);
        assert.ok(!work.some((n) => n.startsWith("cncfdemo-broken")), work.join(", "));
        assert.deepEqual([...Deno.readDirSync(out)], []);
        assert.ok(await exists(`${base.rootfs}/etc/debian_version`));
        assert.ok(await exists(`${base.rootfs}/var/lib/apt/lists/partial`));
        assert.ok(!(await exists(`${base.rootfs}/etc/resolv.conf`)));
        const lists = [...Deno.readDirSync(`${imagesCacheDir()}/apt/lists`)];
        assert.ok(lists.some((e) => e.name.endsWith("InRelease")), "apt lists kept in the cache");
      });
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

/** The pid of a running task, once `ctr task ls` says RUNNING. */
async function runningPid(c: Containerd, id: string): Promise<number> {
  return await pollUntil(async () => {
    const ls = (await c.ctr(["task", "ls"], true)).stdout;
    const m = new RegExp(`^${id}\\s+(\\d+)\\s+RUNNING`, "m").exec(ls);
    return m ? Number(m[1]) : undefined;
  }, { timeoutMs: 20_000, describe: () => `task ${id} is not RUNNING` });
}

const CONTAINERS = ["pause-1", "bench-1", "tools-1", "tools-2"];

function shimSocket(c: Containerd, id: string): string {
  const hash = createHash("sha256").update(`${c.socket}/k8s.io/${id}`).digest("hex");
  return `/run/containerd/s/${hash}`;
}

function ctrChild(c: Containerd, args: string[]): Deno.ChildProcess {
  return new Deno.Command(bins!.paths.ctr, {
    args: ["--address", c.socket, "--namespace", "k8s.io", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test({
  name:
    `importImages into a real containerd: unpacked, re-run unchanged; tools, pause and bench-target run${ignored}`,
  ignore: why !== undefined,
  async fn() {
    const archives = await ensureImageArchives(NAMES);
    const runBefore = await exists("/run/containerd");
    const c = await startContainerd(bins!);
    const children: Deno.ChildProcess[] = [];
    try {
      const lines: string[] = [];
      const r1 = await importImages(bins!.paths.ctr, c.socket, archives, (l) => lines.push(l));
      assert.deepEqual(r1.imported.sort(), [BENCH_TARGET, TOOLS, PAUSE].sort());
      assert.equal(r1.summary, "imported 3 images (0 unchanged)");
      assert.equal(lines.at(-1), r1.summary);
      const r2 = await importImages(bins!.paths.ctr, c.socket, archives);
      assert.deepEqual(r2.imported, []);
      assert.equal(r2.summary, "imported 0 images (3 unchanged)");
      const check = (await c.ctr(["images", "check"])).stdout;
      for (const a of archives) {
        assert.match(
          check,
          new RegExp(`^${a.ref}\\s+\\S+\\s+${a.manifestDigest}\\s+complete.*true\\s*$`, "m"),
        );
      }

      // tools: a shell, curl, and what the tests use
      const tools = await c.ctr([
        "run",
        "--rm",
        ...c.runOptions,
        TOOLS,
        "tools-1",
        "sh",
        "-c",
        "curl --version && command -v dig ip ps mkdir rm >/dev/null && grep -q '^http\\s*80/tcp' /etc/services && echo ok",
      ]);
      assert.match(tools.stdout, /^curl 7\.\d+\.\d+ /);
      assert.equal(tools.stdout.trim().split("\n").at(-1), "ok");

      // pause: runs as 65535 and exits 0 on SIGTERM
      const pause = ctrChild(c, ["run", "--rm", ...c.runOptions, PAUSE, "pause-1"]);
      children.push(pause);
      const pausePid = await runningPid(c, "pause-1");
      assert.ok(await exists(shimSocket(c, "pause-1")), "the shim's socket is where cleanup looks");
      assert.match(await Deno.readTextFile(`/proc/${pausePid}/status`), /^Uid:\s+65535\s/m);
      await c.ctr(["task", "kill", "--signal", "SIGTERM", "pause-1"]);
      assert.equal((await pause.output()).code, 0);

      // bench-target: nginx as 65532 with no capability, on 8080, reached from tools over loopback
      // as in the cluster: read-only root filesystem, a writable /tmp
      const nginx = ctrChild(c, [
        "run",
        "--rm",
        ...c.runOptions,
        ...DROP_ALL_DEFAULT_CAPS,
        "--read-only",
        "--mount",
        "type=tmpfs,src=tmpfs,dst=/tmp,options=rw:nosuid:nodev:mode=1777",
        BENCH_TARGET,
        "bench-1",
      ]);
      children.push(nginx);
      const nginxPid = await runningPid(c, "bench-1");
      const status = await Deno.readTextFile(`/proc/${nginxPid}/status`);
      assert.match(status, /^Uid:\s+65532\s/m);
      assert.match(status, /^CapEff:\s+0+$/m);
      const page = await c.ctr([
        "run",
        "--rm",
        ...c.runOptions,
        "--with-ns",
        `network:/proc/${nginxPid}/ns/net`,
        TOOLS,
        "tools-2",
        "sh",
        "-c",
        // nginx may still be opening its socket: curl retries refused connections (bounded)
        "curl -sS --retry 40 --retry-connrefused --retry-delay 0 --retry-max-time 20 http://127.0.0.1:8080/ && curl -sS http://127.0.0.1:8080/healthz",
      ]);
      assert.match(page.stdout, /cncfdemo bench-target: a small static page/);
      assert.equal(page.stdout.trim().split("\n").at(-1), "ok");
      await c.ctr(["task", "kill", "--signal", "SIGQUIT", "bench-1"]);
      assert.equal((await nginx.output()).code, 0);
    } finally {
      for (const ch of children) {
        try {
          ch.kill("SIGKILL");
        } catch {
          // ended
        }
        await ch.output().catch(() => {});
      }
      for (const id of CONTAINERS) {
        await c.ctr(["task", "kill", "--signal", "SIGKILL", id], true);
        await c.ctr(["task", "delete", "--force", id], true);
        await c.ctr(["container", "delete", id], true);
      }
      await c.stop();
      await stopProcesses(await processesMentioning(c.dir), 5_000);
      for (const m of await mountsUnder(c.dir)) {
        await run("umount", ["--lazy", m], { allowFailure: true });
      }
      await Deno.remove(c.dir, { recursive: true }).catch(() => {});
      // containerd puts shim sockets in /run/containerd/s whatever its state directory, named
      // sha256(<its address>/<namespace>/<container id>)
      for (const id of CONTAINERS) await Deno.remove(shimSocket(c, id)).catch(() => {});
      if (!runBefore) {
        for (const d of ["/run/containerd/s", "/run/containerd"]) {
          await Deno.remove(d).catch(() => {}); // only when empty
        }
      }
    }
    for (const id of CONTAINERS) assert.equal(await exists(shimSocket(c, id)), false);
    assert.deepEqual(await processesMentioning(c.dir), [], "no process of the test is left");
    assert.deepEqual(await mountsUnder(c.dir), [], "no mount of the test is left");
    assert.equal(await exists(c.dir), false);
  },
});

Deno.test({
  name: `bake --target images refuses in one line when it would build without root${ignored}`,
  ignore: why !== undefined,
  async fn() {
    const sb = await sandbox();
    try {
      // uid 65534 in a user namespace; an empty --out: tools must be built.
      const out = await sb.taskAsNobody("bake.ts", [
        "--target",
        "images",
        "--only",
        "tools",
        "--out",
        `${sb.dir}/archives`,
      ]);
      const stderr = out.stderr.trim();
      assert.equal(out.code, 1, stderr);
      assert.equal(
        stderr.split("\n").at(-1),
        "error: bake --target images needs root (debootstrap, chroot, overlay mounts): run it with sudo",
      );
      await assert.rejects(Deno.stat(`${sb.dir}/archives/tools`), Deno.errors.NotFound);
    } finally {
      await sb.cleanup();
    }
  },
});
