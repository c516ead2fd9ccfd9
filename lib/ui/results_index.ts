/**
 * The results directory as `deno task ui` shows it: every record (benchmark, bootstrap, rollout,
 * experiment) listed with what tells it apart, each one readable by its file name, the bench's
 * HTML reports beside them, and the deployment-model report of `deno task report` rendered on
 * demand. Only files found in the directory are served: a name is looked up, never joined blindly.
 */
import { RESULT_SCHEMA } from "../bench/result.ts";
import { errorMessage, UsageError } from "../errors.ts";
import { analyze } from "../report/analyze.ts";
import { renderHtml } from "../report/html.ts";
import { shippedPrices } from "../report/prices.ts";
import { EXPERIMENT_SCHEMA, readRecords, recordProblem, SCHEMAS } from "../report/read.ts";
import { BOOTSTRAP_SCHEMA, ROLLOUT_SCHEMA } from "../report/schema.ts";

/** One record of the directory, for the list. */
export interface IndexEntry {
  /** File name in the directory (`<id>.json`). */
  file: string;
  kind: "bench" | "bootstrap" | "rollout" | "experiment";
  id: string;
  started_at: string;
  /** sim, local, aws, kubernetes… */
  model: string;
  /** A short line: the command, target or experiment kind. */
  label: string;
  /** The file name of its HTML report, when there is one. */
  html?: string;
}

const KINDS: Record<string, IndexEntry["kind"]> = {
  [RESULT_SCHEMA]: "bench",
  [BOOTSTRAP_SCHEMA]: "bootstrap",
  [ROLLOUT_SCHEMA]: "rollout",
  [EXPERIMENT_SCHEMA]: "experiment",
};

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\.(json|html)$/;

export class ResultsIndex {
  private constructor(readonly dir: string) {}

  /** Opens the directory; refuses one that cannot be read, in one line. */
  static async open(dir: string): Promise<ResultsIndex> {
    try {
      if (!(await Deno.stat(dir)).isDirectory) throw new Error("not a directory");
    } catch (err) {
      const why = err instanceof Deno.errors.NotFound ? "no such directory" : errorMessage(err);
      throw new UsageError(
        `Cannot read results from ${dir}: ${why}; pass --results-dir, or make some with deno task demo, bench, bootstrap:* or rollout`,
      );
    }
    return new ResultsIndex(dir.replace(/\/+$/, "") || "/");
  }

  async #names(): Promise<Set<string>> {
    const names = new Set<string>();
    for await (const e of Deno.readDir(this.dir)) {
      if (e.isFile && SAFE_NAME.test(e.name)) names.add(e.name);
    }
    return names;
  }

  /** Every readable record, newest first. */
  async list(): Promise<IndexEntry[]> {
    const names = await this.#names();
    const out: IndexEntry[] = [];
    for (const file of [...names].filter((n) => n.endsWith(".json"))) {
      const doc = await this.#json(file);
      if (!doc || !SCHEMAS.includes(doc.schema as string) || recordProblem(doc)) continue;
      const kind = KINDS[doc.schema as string]!;
      const html = file.replace(/\.json$/, ".html");
      out.push({
        file,
        kind,
        id: String(doc.id),
        started_at: String(doc.started_at),
        model: String(doc.model ?? (doc.cluster as { model?: string } | null)?.model ?? "–"),
        label: kind === "bench"
          ? String(doc.target)
          : kind === "experiment"
          ? `experiment ${doc.kind}`
          : [doc.command, (doc.cluster as { name?: string } | null)?.name].filter(Boolean).join(
            " ",
          ),
        ...(names.has(html) ? { html } : {}),
      });
    }
    return out.sort((a, b) => b.started_at.localeCompare(a.started_at));
  }

  async #json(file: string): Promise<Record<string, unknown> | undefined> {
    try {
      const doc = JSON.parse(await Deno.readTextFile(`${this.dir}/${file}`));
      return typeof doc === "object" && doc !== null && !Array.isArray(doc) ? doc : undefined;
    } catch {
      return undefined;
    }
  }

  /** A file of the directory by its name (undefined: no such file here). */
  async file(name: string): Promise<string | undefined> {
    if (!SAFE_NAME.test(name) || !(await this.#names()).has(name)) return undefined;
    return await Deno.readTextFile(`${this.dir}/${name}`);
  }

  /** The deployment-model report (`deno task report`'s HTML) over the directory, shipped prices. */
  async report(): Promise<string> {
    const records = await readRecords(this.dir);
    return await renderHtml(analyze(records, shippedPrices(), { resultsDir: this.dir }));
  }
}
