/**
 * Reading a results directory for the report: benchmark results (cncfdemo.bench/v1), bootstrap and
 * rollout records (cncfdemo.bootstrap/v1, cncfdemo.rollout/v1) and experiment results
 * (cncfdemo.experiment/v1). A file that is not JSON, has another schema or lacks what the report
 * needs is skipped with one warning naming it; a directory that cannot be read, or holds no
 * record at all, is refused in one line.
 */
import { type BenchResult, RESULT_SCHEMA } from "../bench/result.ts";
import { errorMessage, UsageError } from "../errors.ts";
import { log } from "../log.ts";
import {
  BOOTSTRAP_SCHEMA,
  type BootstrapRecord,
  ROLLOUT_SCHEMA,
  type RolloutRecord,
} from "./schema.ts";

export const EXPERIMENT_SCHEMA = "cncfdemo.experiment/v1";

/** What the report reads of an experiment's result: its kind, its figures, where it ran. */
export interface ExperimentRecord {
  schema: typeof EXPERIMENT_SCHEMA;
  id: string;
  kind: string;
  started_at: string;
  model?: string;
  cluster?: { context?: string; model?: string; nodes?: number } | null;
  params?: Record<string, unknown>;
  figures: Record<string, unknown>;
}

export interface Records {
  bench: BenchResult[];
  bootstrap: BootstrapRecord[];
  rollout: RolloutRecord[];
  experiment: ExperimentRecord[];
  /** Files skipped, and why. */
  skipped: { file: string; why: string }[];
}

export const SCHEMAS = [RESULT_SCHEMA, BOOTSTRAP_SCHEMA, ROLLOUT_SCHEMA, EXPERIMENT_SCHEMA];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** What a record of a known schema lacks (undefined when it has what the report needs). */
export function recordProblem(doc: Record<string, unknown>): string | undefined {
  const is: Record<string, (v: unknown) => boolean> = {
    array: Array.isArray,
    object: isObject,
    string: (v) => typeof v === "string",
    number: (v) => typeof v === "number" && Number.isFinite(v),
  };
  const need = (...keys: [string, keyof typeof is][]) => {
    for (const [k, type] of keys) {
      if (!is[type]!(doc[k])) return `no ${k} (${type})`;
    }
    return undefined;
  };
  switch (doc.schema) {
    case RESULT_SCHEMA:
      return need(
        ["id", "string"],
        ["started_at", "string"],
        ["model", "string"],
        ["target", "string"],
        ["params", "object"],
        ["rps", "number"],
        ["requests", "number"],
        ["latency_ms", "object"],
        ["errors", "object"],
        ["histogram", "array"],
      );
    case BOOTSTRAP_SCHEMA:
    case ROLLOUT_SCHEMA:
      return need(
        ["id", "string"],
        ["session", "string"],
        ["started_at", "string"],
        ["model", "string"],
        ["nodes", "object"],
        ["params", "object"],
        ["phases", "array"],
        ["total_ms", "number"],
      ) ?? (doc.schema === ROLLOUT_SCHEMA
        ? need(["components", "array"], ["objects", "number"], ["outcome", "object"])
        : undefined);
    case EXPERIMENT_SCHEMA:
      return need(["id", "string"], ["kind", "string"], ["figures", "object"]);
  }
  return undefined;
}

/** Reads every record of a directory (files ending in .json), oldest first within each kind. */
export async function readRecords(dir: string): Promise<Records> {
  const out: Records = { bench: [], bootstrap: [], rollout: [], experiment: [], skipped: [] };
  let names: string[];
  try {
    const info = await Deno.stat(dir);
    if (!info.isDirectory) throw new UsageError(`Cannot read results from ${dir}: not a directory`);
    names = [];
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.endsWith(".json")) names.push(e.name);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const why = err instanceof Deno.errors.NotFound ? "no such directory" : errorMessage(err);
    throw new UsageError(
      `Cannot read results from ${dir}: ${why}; pass --results-dir, or make some with deno task demo, bench, bootstrap:* or rollout`,
    );
  }
  const skip = (file: string, why: string) => {
    out.skipped.push({ file, why });
    log.warn(`Skipping ${file}: ${why}`);
  };
  for (const name of names.sort()) {
    const file = `${dir.replace(/\/+$/, "")}/${name}`;
    let doc: unknown;
    try {
      doc = JSON.parse(await Deno.readTextFile(file));
    } catch (err) {
      skip(
        file,
        `${err instanceof SyntaxError ? "not valid JSON" : "unreadable"} (${errorMessage(err)})`,
      );
      continue;
    }
    if (!isObject(doc)) {
      skip(file, "not a JSON object");
      continue;
    }
    if (!SCHEMAS.includes(doc.schema as string)) {
      skip(
        file,
        `unknown schema ${JSON.stringify(doc.schema ?? null)} (the report reads ${
          SCHEMAS.join(", ")
        })`,
      );
      continue;
    }
    const problem = recordProblem(doc);
    if (problem) {
      skip(file, `a ${doc.schema} record with ${problem}`);
      continue;
    }
    switch (doc.schema) {
      case RESULT_SCHEMA:
        out.bench.push(doc as unknown as BenchResult);
        break;
      case BOOTSTRAP_SCHEMA:
        out.bootstrap.push(doc as unknown as BootstrapRecord);
        break;
      case ROLLOUT_SCHEMA:
        out.rollout.push(doc as unknown as RolloutRecord);
        break;
      default:
        out.experiment.push(doc as unknown as ExperimentRecord);
    }
  }
  const total = out.bench.length + out.bootstrap.length + out.rollout.length +
    out.experiment.length;
  if (total === 0) {
    throw new UsageError(
      `No records in ${dir}${
        out.skipped.length ? ` (${out.skipped.length} file(s) skipped)` : ""
      }: make some with deno task demo, bench, bootstrap:* or rollout, or pass --results-dir`,
    );
  }
  const byStart = (a: { started_at: string }, b: { started_at: string }) =>
    a.started_at.localeCompare(b.started_at);
  out.bench.sort(byStart);
  out.bootstrap.sort(byStart);
  out.rollout.sort(byStart);
  out.experiment.sort((a, b) => String(a.started_at).localeCompare(String(b.started_at)));
  return out;
}
