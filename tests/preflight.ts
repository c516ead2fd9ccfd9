/**
 * Test preflight — run by `deno task test` before the tests: gets the pinned binaries (building
 * them on the first run) and, as root on Linux (where the tests start a real node), the container
 * images (built offline on the first run); names, in one line, any system tool the tests need that
 * is missing.
 *
 * Example: deno run -A tests/preflight.ts
 */
import { BINARIES, type BinaryName, resolveBinaries } from "../lib/binaries.ts";
import { ensureImageArchives, selectImages } from "../lib/container_images.ts";
import { CncfdemoError, runMain } from "../lib/errors.ts";
import { hasProgram } from "../lib/run_program.ts";
import { runSteps } from "../lib/steps.ts";

/** Programs the tests run, and where they come from. */
export const TOOLS: { program: string; from: string }[] = [
  { program: "go", from: "Go 1.26+ (https://go.dev/dl/)" },
  { program: "ss", from: "Debian package iproute2" },
  { program: "wrk", from: "Debian package wrk" },
  { program: "prometheus-pushgateway", from: "Debian package prometheus-pushgateway" },
  { program: "prometheus", from: "Debian package prometheus" },
  { program: "chromium", from: "Debian package chromium" },
  { program: "nginx", from: "Debian package nginx-light" },
  { program: "curl", from: "Debian package curl" },
  { program: "shellcheck", from: "Debian package shellcheck" },
  { program: "moto_server", from: "pip install 'moto[server]==5.2.5'" },
];

/** What the real-node tests need beyond that (as root on Linux). */
export const NODE_TOOLS: { program: string; from: string }[] = [
  { program: "nft", from: "Debian package nftables" },
  { program: "debootstrap", from: "Debian package debootstrap" },
  { program: "pkg-config", from: "Debian packages pkg-config and libseccomp-dev" },
  { program: "zstd", from: "Debian package zstd" },
];

const realNode = Deno.build.os === "linux" && Deno.uid() === 0;

export async function main(): Promise<void> {
  const missing: string[] = [];
  for (const t of [...TOOLS, ...(realNode ? NODE_TOOLS : [])]) {
    if (!(await hasProgram(t.program))) missing.push(`${t.program} (${t.from})`);
  }
  if (missing.length) {
    throw new CncfdemoError(
      `Missing tools for the tests: ${missing.join(", ")}; .ci/run installs them all`,
    );
  }
  await runSteps([
    {
      name: "Get binaries",
      async run(ctx) {
        const r = await resolveBinaries(Object.keys(BINARIES) as BinaryName[], {
          progress: ctx.progress,
        });
        return [...new Set(Object.values(r.sources))].join(" + ");
      },
    },
    {
      name: "Get container images",
      async run(ctx) {
        if (!realNode) return "skipped: the real-node tests need root on Linux";
        const { build } = selectImages("offline");
        const archives = await ensureImageArchives(build.map((i) => i.name), {
          progress: ctx.progress,
        });
        const built = archives.filter((a) => a.status === "built").length;
        return `${archives.length} archives (${built} built)`;
      },
    },
  ], { summary: false });
}

if (import.meta.main) runMain(main);
