/**
 * The schemas of the phase records (cncfdemo.bootstrap/v1, cncfdemo.rollout/v1) and where they go:
 * types and constants only, for the writers (`records.ts`) and the report's readers alike.
 */
import { flag, type FlagDef } from "../flags.ts";
import type { ProviderId } from "../providers/provider.ts";

export const BOOTSTRAP_SCHEMA = "cncfdemo.bootstrap/v1";
export const ROLLOUT_SCHEMA = "cncfdemo.rollout/v1";

/** The results directory when no --results-dir is given: CNCFDEMO_RESULTS_DIR, else `results`. */
export function defaultResultsDir(): string {
  return Deno.env.get("CNCFDEMO_RESULTS_DIR") || "results";
}

/** The `--results-dir` flag of the tasks that write records. */
export function resultsDirFlag(what = "the <id>.json records"): FlagDef<string, true> {
  return flag.string(`Directory for ${what} ($CNCFDEMO_RESULTS_DIR sets the default)`, {
    default: defaultResultsDir(),
    placeholder: "DIR",
  });
}

/** One step of the timeline, flattened. */
export interface Phase {
  /**
   * The step's path from the record's top (`Start › Control plane › etcd and kube-apiserver`),
   * the cluster's name and context written `<name>` and `<context>`: the same phase of two runs
   * has the same key.
   */
  key: string;
  /** The step's name as printed. */
  name: string;
  /** 0 at the record's top. */
  depth: number;
  /** When it started, in ms since the command started. */
  start_ms: number;
  ms: number;
  ok: boolean;
  detail?: string;
  /** A group of steps (its time spans its children). */
  group: boolean;
}

export interface NodesInfo {
  count: number;
  /** Nodes simulated by kwok (they run no containers). */
  simulated: number;
  /** Instance type (or `kwok`, `local`) → node count. */
  types: Record<string, number>;
}

/** The time from the command's start to the first 2xx answer of the stack. */
export interface FirstGoodRequest {
  /** ms since the command started. */
  ms: number;
  /** ms since the rollout ended. */
  after_rollout_ms: number;
  /** What answered: `service cncfdemo/bench-target:http GET /`. */
  target: string;
  /** Requests made until then (the first ones may fail while endpoints settle). */
  attempts: number;
}

export type ParamValue = string | number | boolean | null;

export interface RecordBase {
  id: string;
  /** The command run both records of one demo came from (they share it). */
  session: string;
  /** The task: `bootstrap:sim`, `rollout`, `demo`. */
  command: string;
  started_at: string;
  ended_at: string;
  /** sim, local, aws or kubernetes. */
  model: string;
  cluster: { name: string | null; context: string | null; server: string | null };
  nodes: NodesInfo;
  versions: Record<string, string>;
  /** What makes two runs alike: provider sizes for a bootstrap; for a rollout, see its fields. */
  params: Record<string, ParamValue>;
  /** The machine the command ran on. */
  host: { hostname: string; os: string; cpus: number; memory_bytes: number | null };
  /** When the first step started, and the time from it to the end of the last, in ms. */
  steps_start_ms: number;
  total_ms: number;
  phases: Phase[];
  first_good_request: FirstGoodRequest | null;
  /** Why there is no first good request, when there is none. */
  first_good_request_note: string | null;
}

export interface BootstrapRecord extends RecordBase {
  schema: typeof BOOTSTRAP_SCHEMA;
  provider: ProviderId;
  /** Whether the cluster existed before (a re-run converges: much faster); null when unknown. */
  existed: boolean | null;
  /** AWS: the region, the API endpoint when it is not AWS's own (AWS_ENDPOINT_URL), API calls made. */
  region: string | null;
  endpoint: string | null;
  api_calls: number | null;
}

export interface RolloutRecord extends RecordBase {
  schema: typeof ROLLOUT_SCHEMA;
  /** The components switched on. */
  components: string[];
  /** Objects rendered. */
  objects: number;
  /** A digest of the values (the same values render the same stack). */
  values_digest: string;
  outcome: { created: number; configured: number; unchanged: number; pruned: number };
}

export type PhaseRecord = BootstrapRecord | RolloutRecord;

/** The model of a cluster from its facts, or from our contexts' names (`aws-<name>`) when facts cannot tell. */
export function modelOfContext(model: string, context: string | null | undefined): string {
  if (model !== "kubernetes" || !context) return model;
  const prefix = /^(sim|local|aws)-/.exec(context)?.[1];
  return prefix ?? model;
}
