/**
 * Test preflight — run by `deno task test` before the tests: gets the pinned binaries (building
 * them on the first run) and names, in one line, any system tool the tests need that is missing.
 *
 * Example: deno run -A tests/preflight.ts
 */
import { BINARIES, type BinaryName, resolveBinaries } from "../lib/binaries.ts";
import { CncfdemoError, runMain } from "../lib/errors.ts";
import { hasProgram } from "../lib/process.ts";
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

export async function main(): Promise<void> {
  const missing: string[] = [];
  for (const t of TOOLS) {
    if (!(await hasProgram(t.program))) missing.push(`${t.program} (${t.from})`);
  }
  if (missing.length) {
    throw new CncfdemoError(
      `Missing tools for the tests: ${missing.join(", ")}; .ci/run installs them all`,
    );
  }
  await runSteps([{
    name: "Get binaries",
    async run(ctx) {
      const r = await resolveBinaries(Object.keys(BINARIES) as BinaryName[], {
        progress: ctx.progress,
      });
      return [...new Set(Object.values(r.sources))].join(" + ");
    },
  }], { summary: false });
}

if (import.meta.main) runMain(main);
