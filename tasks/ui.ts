/**
 * ui — the browser view over a results directory: every record (benchmarks, bootstraps, rollouts,
 * experiments) listed, each opened with one click (its phases as a step tree, a benchmark's
 * figures, per-second charts and HTML report, an experiment's figures and series), and the report
 * of `deno task report` embedded. Served on 127.0.0.1 (a free port) with a random token in the
 * printed address, read-only, until Ctrl-C.
 *
 * Arguments: --results-dir DIR
 * Example:   deno task ui --results-dir results
 */
import { runMain } from "../lib/errors.ts";
import { type Command, parseFlags } from "../lib/flags.ts";
import { log } from "../lib/log.ts";
import { resultsDirFlag } from "../lib/report/schema.ts";
import { lingering } from "../lib/ui/live_ui.ts";
import { ResultsIndex } from "../lib/ui/results_index.ts";
import { startUiServer } from "../lib/ui/server.ts";

export const command: Command = {
  name: "ui",
  summary:
    "Browse the results directory in the browser: every record in one click, the report embedded (127.0.0.1 only, until Ctrl-C).",
  examples: ["deno task ui", "deno task ui --results-dir /tmp/results"],
};

export const flags = {
  "results-dir": resultsDirFlag("the records to show"),
};

export async function main(args: string[]): Promise<void> {
  const o = parseFlags(command, flags, args);
  const results = await ResultsIndex.open(o.resultsDir);
  const records = (await results.list()).length;
  const server = startUiServer({ title: `cncfdemo results: ${o.resultsDir}`, results });
  log.info(`UI: ${server.url}`);
  log.info(`Showing ${records} records of ${o.resultsDir} until Ctrl-C.`);
  await lingering(undefined);
  await server.close();
}

if (import.meta.main) runMain(main);
