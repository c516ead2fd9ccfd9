/**
 * Writing phase records (their schemas are in `schema.ts`): what a bootstrap or a rollout took, as
 * `<results-dir>/<id>.json` beside the benchmarks' results, for `deno task report`. Each record
 * holds the timeline the step runner already printed (every step's start and duration, from the
 * runner's records), the model, the nodes and their types, the versions, and — when the command
 * measured it (the demo does) — the time from the command's start to the first good request to
 * the stack. Records are written atomically, after the command succeeded; a failed command writes
 * none.
 *
 * @example
 * const timeline = await runSteps(steps);
 * await recordBootstrap(o.resultsDir, { command: "bootstrap:sim", timeline, info, existed, ...bootstrapFacts("sim", o) });
 */
import { VERSIONS } from "../binaries.ts";
import { newRunId } from "../bench/result.ts";
import { readClusterFacts } from "../bench/cluster_facts.ts";
import type { Kube } from "../kube/client.ts";
import { writeFileAtomic } from "../paths.ts";
import {
  BOOTSTRAP_SCHEMA,
  type BootstrapRecord,
  type FirstGoodRequest,
  modelOfContext,
  type NodesInfo,
  type ParamValue,
  type Phase,
  type PhaseRecord,
  type RecordBase,
  ROLLOUT_SCHEMA,
  type RolloutRecord,
} from "./schema.ts";
import type { ClusterInfo, ProviderId } from "../providers/provider.ts";
import { COMPONENTS } from "../stack/components.ts";
import type { RolloutReport } from "../stack/rollout.ts";
import { isEnabled } from "../stack/switches.ts";
import type { Values } from "../stack/values.ts";
import type { StepRecord } from "../steps.ts";

export { defaultResultsDir, resultsDirFlag } from "./schema.ts";
export type { BootstrapRecord, FirstGoodRequest, RolloutRecord } from "./schema.ts";

/** The timeline flattened into phases, names of the cluster replaced by placeholders in keys. */
export function phasesOf(
  tree: readonly StepRecord[],
  names: { name?: string | null | undefined; context?: string | null | undefined } = {},
): Phase[] {
  const generic = (text: string) => {
    let t = text;
    if (names.context) t = t.replaceAll(names.context, "<context>");
    if (names.name) t = t.replaceAll(`"${names.name}"`, '"<name>"');
    return t;
  };
  const out: Phase[] = [];
  const walk = (records: readonly StepRecord[], path: string[], depth: number) => {
    for (const r of records) {
      const here = [...path, generic(r.name)];
      out.push({
        key: here.join(" › "),
        name: r.name,
        depth,
        start_ms: round(r.startMs ?? 0),
        ms: round(r.ms),
        ok: r.ok,
        ...(r.detail ? { detail: r.detail } : {}),
        group: r.children.length > 0,
      });
      walk(r.children, here, depth + 1);
    }
  };
  walk(tree, [], 0);
  return out;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** The first and last instants of a timeline. */
function span(tree: readonly StepRecord[]): { start: number; total: number } {
  const starts = tree.map((r) => r.startMs ?? 0);
  const ends = tree.map((r) => (r.startMs ?? 0) + r.ms);
  const start = starts.length ? Math.min(...starts) : 0;
  return { start: round(start), total: round(ends.length ? Math.max(...ends) - start : 0) };
}

/** The children of the named top-level group (e.g. the demo's "Roll out the stack"). */
export function subtree(tree: readonly StepRecord[], name: string): StepRecord[] {
  return tree.find((r) => r.name === name)?.children ?? [];
}

function hostFacts(): RecordBase["host"] {
  let memory: number | null = null;
  try {
    memory = Deno.systemMemoryInfo().total;
  } catch {
    memory = null;
  }
  return {
    hostname: Deno.hostname(),
    os: Deno.build.os,
    cpus: navigator.hardwareConcurrency,
    memory_bytes: memory,
  };
}

/** What a provider's bootstrap flags say about the cluster: nodes, versions, comparable parameters. */
export interface BootstrapFacts {
  provider: ProviderId;
  nodes: NodesInfo;
  versions: Record<string, string>;
  params: Record<string, ParamValue>;
  region?: string | null;
}

/** The facts of a bootstrap from its provider's parsed flags (bootstrap task or demo). */
export function bootstrapFacts(provider: ProviderId, o: Record<string, unknown>): BootstrapFacts {
  const pick = (...keys: string[]) => Object.fromEntries(keys.map((k) => [k, o[k] ?? null]));
  const v = (...keys: (keyof typeof VERSIONS)[]) =>
    Object.fromEntries(keys.map((k) => [k, VERSIONS[k]]));
  if (provider === "sim") {
    const n = Number(o.nodes ?? 0);
    return {
      provider,
      nodes: { count: n, simulated: n, types: { kwok: n } },
      versions: v("kubernetes", "etcd", "kwok"),
      params: {
        nodes: n,
        node_cpu: (o.nodeCpu as number | undefined) ?? null,
        node_memory: (o.nodeMemory as number | undefined) ?? null,
        node_pods: (o.nodePods as number | undefined) ?? null,
      },
    };
  }
  if (provider === "local") {
    return {
      provider,
      nodes: { count: 1, simulated: 0, types: { local: 1 } },
      versions: v(
        "kubernetes",
        "etcd",
        "containerd",
        "runc",
        "cni-plugins",
        "coredns",
        "metrics-server",
        "local-path-provisioner",
      ),
      params: { images: (o.images as string | undefined) ?? "auto" },
    };
  }
  const masters = Number(o.masters ?? 1);
  const minions = Number(o.minions ?? 0);
  const type = String(o.instanceType ?? "unknown");
  return {
    provider,
    nodes: { count: masters + minions, simulated: 0, types: { [type]: masters + minions } },
    versions: v("kubernetes"),
    params: {
      ...pick("masters", "minions"),
      instance_type: type,
      region: (o.region as string | undefined) ?? null,
      wait: o.wait === undefined ? true : Boolean(o.wait),
    },
    region: (o.region as string | undefined) ?? null,
  };
}

/** Whether the cluster existed before the bootstrap, from the provider's own list (sim, local). */
export async function existedBefore(
  provider: { list(): Promise<string[]> },
  name: string,
): Promise<boolean | null> {
  try {
    return (await provider.list()).includes(name);
  } catch {
    return null;
  }
}

export interface BootstrapInput extends BootstrapFacts {
  command: string;
  session?: string;
  /** The steps of the bootstrap (for the demo: the children of its bootstrap group). */
  timeline: readonly StepRecord[];
  info: Partial<ClusterInfo>;
  existed: boolean | null;
  startedAt?: Date;
  endpoint?: string | null;
  apiCalls?: number | null;
  firstGoodRequest?: FirstGoodRequest | null;
  firstGoodRequestNote?: string | null;
}

/** When the command started, as a date (its clock starts at 0). */
export function commandStart(): Date {
  return new Date(performance.timeOrigin);
}

/** Builds a bootstrap record. */
export function bootstrapRecord(i: BootstrapInput): BootstrapRecord {
  const s = span(i.timeline);
  const started = i.startedAt ?? commandStart();
  const id = newRunId();
  const names = { name: i.info.name, context: i.info.context };
  return {
    schema: BOOTSTRAP_SCHEMA,
    id,
    session: i.session ?? id,
    command: i.command,
    started_at: started.toISOString(),
    ended_at: new Date(performance.timeOrigin + s.start + s.total).toISOString(),
    model: i.provider,
    provider: i.provider,
    cluster: {
      name: i.info.name ?? null,
      context: i.info.context ?? null,
      server: i.info.server ?? null,
    },
    nodes: i.nodes,
    versions: i.versions,
    params: i.params,
    host: hostFacts(),
    existed: i.existed,
    region: i.region ?? null,
    endpoint: i.endpoint ?? null,
    api_calls: i.apiCalls ?? null,
    steps_start_ms: s.start,
    total_ms: s.total,
    phases: phasesOf(i.timeline, names),
    first_good_request: i.firstGoodRequest ?? null,
    first_good_request_note: i.firstGoodRequest ? null : i.firstGoodRequestNote ??
      `not measured: ${i.command} does not request the stack (deno task demo does)`,
  };
}

export interface RolloutInput {
  command: string;
  session?: string;
  timeline: readonly StepRecord[];
  kube: Kube;
  values: Values;
  report: RolloutReport;
  firstGoodRequest?: FirstGoodRequest | null;
  firstGoodRequestNote?: string | null;
}

/** A short digest of a JSON value (the same values give the same digest). */
export async function digestOf(value: unknown): Promise<string> {
  const text = JSON.stringify(
    value,
    (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
        : v,
  );
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(d)].slice(0, 8).map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Builds a rollout record; reads the cluster's facts (nodes, types, version). */
export async function rolloutRecord(i: RolloutInput): Promise<RolloutRecord> {
  const facts = await readClusterFacts(i.kube);
  const s = span(i.timeline);
  const id = newRunId();
  const model = modelOfContext(facts.model, facts.context);
  const types = Object.keys(facts.instance_types).length
    ? facts.instance_types
    : { [model === "sim" ? "kwok" : model]: facts.nodes };
  const components = COMPONENTS.filter((c) => isEnabled(i.values, c));
  const r = i.report;
  const objects = r.created.length + r.configured.length + r.unchanged.length;
  return {
    schema: ROLLOUT_SCHEMA,
    id,
    session: i.session ?? id,
    command: i.command,
    started_at: commandStart().toISOString(),
    ended_at: new Date(performance.timeOrigin + s.start + s.total).toISOString(),
    model,
    cluster: { name: null, context: facts.context, server: facts.server },
    nodes: { count: facts.nodes, simulated: facts.simulated_nodes, types },
    versions: facts.kubernetes_version ? { kubernetes: facts.kubernetes_version } : {},
    params: {
      nodes: facts.nodes,
      components: components.join(","),
      objects,
    },
    host: hostFacts(),
    components: [...components],
    objects,
    values_digest: await digestOf(i.values),
    outcome: {
      created: r.created.length,
      configured: r.configured.length,
      unchanged: r.unchanged.length,
      pruned: r.pruned.length,
    },
    steps_start_ms: s.start,
    total_ms: s.total,
    phases: phasesOf(i.timeline, { context: facts.context }),
    first_good_request: i.firstGoodRequest ?? null,
    first_good_request_note: i.firstGoodRequest ? null : i.firstGoodRequestNote ??
      `not measured: ${i.command} does not request the stack (deno task demo does)`,
  };
}

/** Writes `<dir>/<id>.json` atomically; returns the path. */
export async function writeRecord(dir: string, r: PhaseRecord): Promise<string> {
  const path = `${dir.replace(/\/+$/, "")}/${r.id}.json`;
  await writeFileAtomic(path, JSON.stringify(r, null, 1) + "\n", 0o644);
  return path;
}

/** Builds and writes a bootstrap record; returns its path. */
export async function recordBootstrap(dir: string, i: BootstrapInput): Promise<string> {
  return await writeRecord(dir, bootstrapRecord(i));
}

/** Builds and writes a rollout record; returns its path. */
export async function recordRollout(dir: string, i: RolloutInput): Promise<string> {
  return await writeRecord(dir, await rolloutRecord(i));
}

/** Whether an AWS cluster existed before its bootstrap: its VPC step found the VPC rather than made it. */
export function awsExisted(timeline: readonly StepRecord[]): boolean | null {
  const find = (rs: readonly StepRecord[]): StepRecord | undefined =>
    rs.find((r) => r.name === "VPC") ?? rs.map((r) => find(r.children)).find(Boolean);
  const vpc = find(timeline);
  if (!vpc?.detail) return null;
  return !/\bcreated$/.test(vpc.detail);
}

export interface DemoInput {
  /** The demo's whole timeline. */
  timeline: readonly StepRecord[];
  /** The names of its bootstrap group (absent with --context) and its rollout group. */
  bootstrapGroup?: string | undefined;
  rolloutGroup: string;
  /** The provider that bootstrapped, its parsed flags, and whether the cluster existed before. */
  provider?: ProviderId | undefined;
  flags?: Record<string, unknown>;
  existed?: boolean | null;
  info: Partial<ClusterInfo>;
  kube: Kube;
  values: Values;
  report: RolloutReport;
  firstGoodRequest: FirstGoodRequest | null;
  firstGoodRequestNote: string | null;
}

/** The demo's records: its bootstrap (when it made the cluster) and its rollout, one session. */
export async function recordDemo(dir: string, i: DemoInput): Promise<string[]> {
  const session = newRunId();
  const first = {
    firstGoodRequest: i.firstGoodRequest,
    firstGoodRequestNote: i.firstGoodRequestNote,
  };
  const paths: string[] = [];
  if (i.bootstrapGroup && i.provider) {
    paths.push(
      await recordBootstrap(dir, {
        command: "demo",
        session,
        timeline: subtree(i.timeline, i.bootstrapGroup),
        info: i.info,
        existed: i.existed ?? null,
        ...bootstrapFacts(i.provider, i.flags ?? {}),
        ...first,
      }),
    );
  }
  paths.push(
    await recordRollout(dir, {
      command: "demo",
      session,
      timeline: subtree(i.timeline, i.rolloutGroup),
      kube: i.kube,
      values: i.values,
      report: i.report,
      ...first,
    }),
  );
  return paths;
}
