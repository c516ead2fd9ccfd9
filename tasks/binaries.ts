/**
 * binaries — fetch or build the pinned binaries (Kubernetes, etcd, kwok) into the cache, so that
 * later runs start at once. Prints each binary's path, origin and reported version.
 *
 * Arguments: --bin-dir DIR (use binaries from there instead of the cache)
 * Example:   deno task binaries
 */
import { BINARIES, type BinaryName, binaryVersion, resolveBinaries } from "../lib/binaries.ts";
import { runMain } from "../lib/errors.ts";
import { type Command, flag, parseFlags } from "../lib/flags.ts";
import { log } from "../lib/log.ts";
import { runSteps } from "../lib/steps.ts";

export const command: Command = {
  name: "binaries",
  summary: "Fetch or build the pinned Kubernetes, etcd and kwok binaries into the cache.",
  examples: ["deno task binaries", "CNCFDEMO_CACHE_DIR=/tmp/c deno task binaries"],
};

export const flags = {
  "bin-dir": flag.string("Directory with prebuilt binaries to use instead of the cache", {
    placeholder: "DIR",
  }),
};

export async function main(args: string[]): Promise<void> {
  const o = parseFlags(command, flags, args);
  const names = Object.keys(BINARIES) as BinaryName[];
  const lines: string[] = [];
  await runSteps([{
    name: "Get binaries",
    async run(ctx) {
      const r = await resolveBinaries(names, { binDir: o.binDir, progress: ctx.progress });
      for (const n of names) {
        lines.push(
          `${n.padEnd(24)} ${(await binaryVersion(r.paths[n])) ?? "?"}  ${r.sources[n].padEnd(8)} ${
            r.paths[n]
          }`,
        );
      }
      return [...new Set(Object.values(r.sources))].join(" + ");
    },
  }], { summary: false });
  for (const l of lines) log.out(l);
}

if (import.meta.main) runMain(main);
