/**
 * The rollout engine: server-side apply (field manager `cncfdemo`, strict field validation) in
 * dependency waves, parallel within a wave, each wave waited for with watches and one readiness
 * rule per kind; objects that carry the labels but are no longer rendered are pruned. A re-run
 * changes nothing and says so. `dryRun` and `diff` go through the API server's dry run and change
 * nothing.
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import { createTwoFilesPatch } from "diff";
import { isDeepStrictEqual } from "node:util";
import { stringify } from "yaml";
import { CncfdemoError, errorMessage, TimeoutError } from "../errors.ts";
import { formatDuration } from "../duration.ts";
import type { Kube } from "../kube/client.ts";
import {
  hasReadyEndpoint,
  POD_OWNERS,
  readiness,
  WAITED_KINDS,
  workloadImagePullProblems,
} from "../kube/readiness.ts";
import { KubeApiError } from "../kube/errors.ts";
import { watchUntil } from "../kube/watch.ts";
import { parallel, sequence, type Step, type StepContext, type StepGroup } from "../steps.ts";
import type { Deadline } from "../wait.ts";
import { emitUi } from "../ui/emit.ts";
import { COMPONENTS, FIELD_MANAGER, MANAGED_SELECTOR } from "./components.ts";
import { imagePullFailure } from "./image_availability.ts";
import { objectId, type Rendered } from "./render.ts";
import {
  APP_WAVES,
  APPLIED_WITH,
  appliedIn,
  COMMON_WAVES,
  MONITORING_WAVES,
  WAVE_ORDER,
  type WaveId,
  waveOf,
  WAVES,
} from "./waves.ts";

/** Every kind the stack renders; what prune and teardown look for (with the managed labels). */
export const MANAGED_KINDS: readonly { apiVersion: string; kind: string }[] = [
  { apiVersion: "v1", kind: "Namespace" },
  { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass" },
  { apiVersion: "v1", kind: "ServiceAccount" },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole" },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding" },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role" },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding" },
  { apiVersion: "v1", kind: "ConfigMap" },
  { apiVersion: "v1", kind: "Secret" },
  { apiVersion: "v1", kind: "Service" },
  { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy" },
  { apiVersion: "apps/v1", kind: "Deployment" },
  { apiVersion: "apps/v1", kind: "StatefulSet" },
  { apiVersion: "apps/v1", kind: "DaemonSet" },
  { apiVersion: "batch/v1", kind: "Job" },
  { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler" },
];

export type Outcome = "created" | "configured" | "unchanged";

/** What a rollout did (or, in a dry run, would do). */
export interface RolloutReport {
  created: string[];
  configured: string[];
  unchanged: string[];
  pruned: string[];
  /** Unified diffs (diff mode). */
  diffs: string[];
}

export function emptyReport(): RolloutReport {
  return { created: [], configured: [], unchanged: [], pruned: [], diffs: [] };
}

export interface RolloutOptions {
  kube: Kube;
  objects: Rendered[];
  /** Server-side dry run: nothing changes, nothing is waited for. */
  dryRun?: boolean;
  /** Collect unified diffs of what would change (implies dryRun). */
  diff?: boolean;
  /** The task's deadline, shared by every wait of the rollout. */
  deadline: Deadline;
  /** Delete managed objects that are no longer rendered (default true). */
  prune?: boolean;
}

/** Live managed objects, by id. */
export type LiveState = Map<string, KubernetesObject>;

/** Lists every managed object of every managed kind (all namespaces). */
export async function readLiveState(kube: Kube, selector = MANAGED_SELECTOR): Promise<LiveState> {
  const live: LiveState = new Map();
  const lists = await Promise.all(
    MANAGED_KINDS.map((k) => kube.rest.list(k.apiVersion, k.kind, { labelSelector: selector })),
  );
  for (const list of lists) for (const o of list) live.set(objectId(o), o);
  return live;
}

/** An object without the fields the server owns, for comparisons and diffs. */
function normalized(obj: KubernetesObject | undefined): unknown {
  if (!obj) return undefined;
  const copy = structuredClone(obj) as KubernetesObject & { status?: unknown };
  delete copy.status;
  const m = copy.metadata ?? {};
  for (
    const k of [
      "managedFields",
      "resourceVersion",
      "generation",
      "uid",
      "creationTimestamp",
      "selfLink",
    ]
  ) {
    delete (m as Record<string, unknown>)[k];
  }
  return copy;
}

function isImmutableJobError(obj: Rendered, err: unknown): boolean {
  return obj.kind === "Job" && err instanceof KubeApiError && err.status === 422 &&
    /immutable/i.test(err.message);
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    m.set(k, [...(m.get(k) ?? []), it]);
  }
  return m;
}

/**
 * Waits until every waited-for object in `objects` is ready and every Service among `services`
 * has a ready endpoint. A failed Job, or a pod of a waited-for workload whose image cannot be
 * pulled, stops every wait at once with one line naming it; at the deadline, one error lists
 * everything still not ready. `onObject` hears each object's status as it changes.
 */
export async function waitReady(
  kube: Kube,
  objects: readonly Rendered[],
  services: readonly Rendered[],
  deadline: Deadline,
  ctx: StepContext,
  onObject: (id: string, status: string, ready: boolean) => void = () => {},
): Promise<void> {
  const pending = new Map<string, string>(); // id → status
  const waits: Promise<unknown>[] = [];
  // The first failure that is not the deadline stops every other wait.
  const stop = new AbortController();
  // Pod watches end (aborted) once the workloads are ready: that is no failure.
  const podsDone = new AbortController();
  const guard = (p: Promise<unknown>) =>
    p.catch((err) => {
      if (podsDone.signal.aborted) return;
      if (!(err instanceof TimeoutError) && !stop.signal.aborted) stop.abort(err);
      throw err;
    });
  const report = () => {
    const left = [...pending.entries()];
    if (left.length) {
      ctx.progress(`waiting for ${left.map(([id, s]) => `${id} (${s})`).slice(0, 3).join(", ")}`);
    }
  };
  const workloads = objects.filter((o) => WAITED_KINDS.has(o.kind));
  for (
    const group of groupBy(
      workloads,
      (o) => `${o.apiVersion}|${o.kind}|${o.metadata.namespace ?? ""}`,
    ).values()
  ) {
    const first = group[0]!;
    const names = new Set(group.map((o) => o.metadata.name));
    for (const o of group) pending.set(objectId(o), "not seen yet");
    waits.push(guard(watchUntil<KubernetesObject>(
      kube,
      {
        apiVersion: first.apiVersion,
        kind: first.kind,
        namespace: first.metadata.namespace,
        labelSelector: MANAGED_SELECTOR,
      },
      (live) => {
        const mine = live.filter((o) => names.has(o.metadata?.name ?? ""));
        return mine.length === names.size &&
          mine.every((o) => readiness({ ...o, kind: first.kind }).ready);
      },
      {
        timeoutMs: deadline.left(),
        describe: () => "",
        signal: stop.signal,
        onChange: (live) => {
          for (const o of live) {
            if (!names.has(o.metadata?.name ?? "")) continue;
            const r = readiness({ ...o, kind: first.kind });
            const id = objectId({ ...o, kind: first.kind });
            if (r.ready) pending.delete(id);
            else pending.set(id, r.status);
            onObject(id, r.ready ? "ready" : r.status, r.ready);
          }
          report();
        },
        fail: (live) => {
          for (const o of live) {
            if (!names.has(o.metadata?.name ?? "")) continue;
            const r = readiness({ ...o, kind: first.kind });
            if (r.failed) return `${objectId({ ...o, kind: first.kind })} failed: ${r.failed}`;
          }
          return undefined;
        },
      },
    )));
  }
  const withSelector = services.filter((s) =>
    Object.keys((s as { spec?: { selector?: object } }).spec?.selector ?? {}).length
  );
  for (const group of groupBy(withSelector, (s) => s.metadata.namespace ?? "").values()) {
    const names = group.map((s) => s.metadata.name);
    const ns = group[0]!.metadata.namespace;
    for (const s of group) pending.set(objectId(s), "no ready endpoint");
    waits.push(guard(watchUntil<KubernetesObject>(
      kube,
      {
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        namespace: ns,
        labelSelector: `kubernetes.io/service-name in (${names.join(",")})`,
      },
      (slices) =>
        names.every((n) =>
          hasReadyEndpoint(
            slices.filter((s) => s.metadata?.labels?.["kubernetes.io/service-name"] === n),
          )
        ),
      {
        timeoutMs: deadline.left(),
        describe: () => "",
        signal: stop.signal,
        onChange: (slices) => {
          for (const n of names) {
            const ok = hasReadyEndpoint(
              slices.filter((s) => s.metadata?.labels?.["kubernetes.io/service-name"] === n),
            );
            if (ok && pending.delete(`Service ${ns}/${n}`)) {
              onObject(`Service ${ns}/${n}`, "ready endpoint", true);
            }
          }
          report();
        },
      },
    )));
  }
  // While the workloads are waited for, their pods are watched (found by each workload's
  // selector) for images that cannot be pulled: that is known within seconds, not at the deadline.
  const waited = Promise.allSettled(waits);
  const podWatches = [
    ...groupBy(
      workloads.filter((o) => POD_OWNERS.has(o.kind)),
      (o) => o.metadata.namespace ?? "",
    ).values(),
  ].map((group) =>
    guard(watchUntil<KubernetesObject>(
      kube,
      {
        apiVersion: "v1",
        kind: "Pod",
        namespace: group[0]!.metadata.namespace,
        labelSelector: MANAGED_SELECTOR,
      },
      () => false,
      {
        timeoutMs: deadline.left(),
        describe: () => "",
        signal: AbortSignal.any([stop.signal, podsDone.signal]),
        fail: (pods) => {
          const problem = workloadImagePullProblems(group, pods)[0];
          return problem ? imagePullFailure(problem) : undefined;
        },
      },
    ))
  );
  const podsSettled = Promise.allSettled(podWatches); // handled from the start
  const results = await waited;
  podsDone.abort();
  await podsSettled;
  if (stop.signal.aborted) throw stop.signal.reason;
  if (results.some((r) => r.status === "rejected")) {
    throw new TimeoutError(
      `Not ready within ${formatDuration(deadline.totalMs)}: ${
        [...pending.entries()].map(([id, s]) => `${id} (${s})`).join(", ")
      }`,
    );
  }
}

/**
 * Whether an apply created, changed or left an object: its content is compared without status
 * and server-owned metadata, so a controller writing status meanwhile (which bumps the
 * resourceVersion) is not mistaken for a change of ours.
 */
/**
 * What an apply did (or, for a dry run, would do): compared without the fields the server owns,
 * since a dry run never changes resourceVersion.
 */
export function outcomeOf(before: KubernetesObject | undefined, after: KubernetesObject): Outcome {
  if (!before) return "created";
  return isDeepStrictEqual(normalized(before), normalized(after)) ? "unchanged" : "configured";
}

function diffOf(
  id: string,
  before: KubernetesObject | undefined,
  after: KubernetesObject | undefined,
): string {
  return createTwoFilesPatch(
    before ? id : "/dev/null",
    after ? id : "/dev/null",
    before ? stringify(normalized(before), { sortMapEntries: true }) : "",
    after ? stringify(normalized(after), { sortMapEntries: true }) : "",
    "live",
    after ? "after apply" : "pruned",
    { context: 3 },
  );
}

/** Whether a dry run failed only because the object's namespace does not exist yet. */
function inNewNamespace(obj: Rendered, err: unknown, live: LiveState): boolean {
  const ns = obj.metadata.namespace;
  return !!ns && err instanceof KubeApiError && err.status === 404 && !live.has(`Namespace ${ns}`);
}

interface Validation {
  /** Objects whose namespace does not exist yet: checked once the namespaces are applied. */
  deferred: Rendered[];
  results: { obj: Rendered; outcome: Outcome; after?: KubernetesObject }[];
}

/**
 * Server-side dry run of every object (strict field validation), in parallel. Every rejection is
 * collected; the error names the first and counts the rest, so nothing is applied on bad input.
 */
async function validate(
  kube: Kube,
  objs: readonly Rendered[],
  live: LiveState,
): Promise<Validation> {
  const v: Validation = { deferred: [], results: [] };
  const errors: string[] = [];
  await Promise.all(objs.map(async (obj) => {
    const id = objectId(obj);
    try {
      const after = await kube.rest.apply(obj, { fieldManager: FIELD_MANAGER, dryRun: true });
      v.results.push({ obj, outcome: outcomeOf(live.get(id), after), after });
    } catch (err) {
      if (inNewNamespace(obj, err, live)) v.deferred.push(obj);
      else if (isImmutableJobError(obj, err)) v.results.push({ obj, outcome: "configured" });
      else errors.push(`Cannot apply ${id}: ${errorMessage(err)}`);
    }
  }));
  if (errors.length) {
    errors.sort();
    throw new CncfdemoError(
      errors[0]! + (errors.length > 1 ? ` (and ${errors.length - 1} more rejected objects)` : ""),
    );
  }
  return v;
}

/** Applies one object; says whether it was created, changed or left as it was. */
async function applyOne(
  kube: Kube,
  obj: Rendered,
  live: LiveState,
  report: RolloutReport,
): Promise<Outcome> {
  const id = objectId(obj);
  const before = live.get(id);
  let after: KubernetesObject;
  try {
    after = await kube.rest.apply(obj, { fieldManager: FIELD_MANAGER });
  } catch (err) {
    if (!isImmutableJobError(obj, err)) {
      throw new CncfdemoError(`Cannot apply ${id}: ${errorMessage(err)}`, { cause: err });
    }
    // A Job's pod template cannot change: replace the Job (every Job here is safe to run again).
    await kube.rest.delete(obj, { propagationPolicy: "Foreground" });
    await watchUntil(
      kube,
      {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        namespace: obj.metadata.namespace,
        fieldSelector: `metadata.name=${obj.metadata.name}`,
      },
      (os) => os.length === 0,
      { timeoutMs: 60_000, describe: () => `${id} was not deleted within 60s` },
    );
    live.delete(id);
    after = await kube.rest.apply(obj, { fieldManager: FIELD_MANAGER });
    report.configured.push(id);
    return "configured";
  }
  const outcome = outcomeOf(before, after);
  report[outcome].push(id);
  return outcome;
}

/** `1 object`, `2 objects`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function summary(outcomes: Outcome[], dryRun: boolean): string {
  const count = (o: Outcome) => outcomes.filter((x) => x === o).length;
  const parts: string[] = [];
  const verb = dryRun
    ? { created: "to create", configured: "to change" }
    : { created: "created", configured: "configured" };
  if (count("created")) parts.push(`${count("created")} ${verb.created}`);
  if (count("configured")) parts.push(`${count("configured")} ${verb.configured}`);
  if (count("unchanged")) parts.push(`${count("unchanged")} unchanged`);
  return parts.join(", ") || "nothing to apply";
}

/**
 * The targets of `autoscalers` (default: every autoscaler in `objects`), each of which must be among
 * the rendered `objects` (checked before anything is applied).
 */
export function scaleTargets(
  objects: readonly Rendered[],
  autoscalers: readonly Rendered[] = objects,
): Rendered[] {
  return autoscalers.filter((x) => x.kind === "HorizontalPodAutoscaler").map((hpa) => {
    const ref = (hpa as { spec?: { scaleTargetRef?: { kind?: string; name?: string } } }).spec
      ?.scaleTargetRef;
    const target = objects.find((x) =>
      x.kind === ref?.kind && x.metadata.name === ref?.name &&
      x.metadata.namespace === hpa.metadata.namespace
    );
    if (!target) {
      throw new CncfdemoError(
        `Cannot apply ${
          objectId(hpa)
        }: it scales ${ref?.kind} ${hpa.metadata.namespace}/${ref?.name}, which the stack does not render`,
      );
    }
    return target;
  });
}

/**
 * Why the autoscalers among `objects` can never get resource metrics here: the cluster serves no
 * resource metrics API (`metrics.k8s.io`, usually metrics-server), so ScalingActive never turns
 * True. Undefined when it is served (perhaps not available yet: that is waited for).
 */
export async function metricsApiProblem(
  kube: Kube,
  objects: readonly Rendered[],
): Promise<string | undefined> {
  // deno-lint-ignore no-explicit-any
  const resourceMetric = (x: any) =>
    x.kind === "HorizontalPodAutoscaler" &&
    (x.spec?.metrics ?? []).some((m: { type?: string }) => m.type === "Resource");
  const hpas = objects.filter(resourceMetric);
  if (!hpas.length) return undefined;
  try {
    const served = await kube.rest.request<unknown>("GET", "/apis/metrics.k8s.io/v1beta1", {
      allow404: true,
    });
    if (served !== undefined) return undefined;
  } catch (err) {
    // registered but not answering (503 while metrics-server starts): waited for
    if (err instanceof KubeApiError) return undefined;
    throw err;
  }
  return `${
    hpas.map(objectId).join(", ")
  } cannot get CPU metrics: this cluster serves no resource metrics API (metrics.k8s.io/v1beta1), so ScalingActive never turns True; install metrics-server (the sim, local and aws providers run it)`;
}

/** Objects the rollout waits for: all but those marked `cncfdemo.io/wait: "false"` (background work). */
function waitedFor(objs: readonly Rendered[]): Rendered[] {
  return objs.filter((x) => x.metadata.annotations?.["cncfdemo.io/wait"] !== "false");
}

/** The steps of a rollout; `report` is filled as they run. */
export function rolloutSteps(o: RolloutOptions, report: RolloutReport): (Step | StepGroup)[] {
  const dryRun = o.dryRun === true || o.diff === true;
  const deadline = o.deadline;
  let live: LiveState = new Map();
  let deferred: Rendered[] = [];
  const byWave = groupBy(o.objects, (obj) => waveOf(obj));
  const component = (x: Rendered) => x.metadata.labels["app.kubernetes.io/component"]!;

  const waveStep = (wave: WaveId): Step => ({
    name: WAVES[wave],
    async run(ctx) {
      const objs = byWave.get(wave) ?? [];
      // Objects applied early (APPLIED_WITH) are applied here and waited for in their own wave.
      const toApply = appliedIn(wave).flatMap((w) => byWave.get(w) ?? []);
      if (!objs.length && !toApply.length) return "nothing to apply";
      const waited = waitedFor(objs);
      const show = (id: string, status: string, ready: boolean) =>
        emitUi({ type: "object", wave: WAVES[wave], id, status, ready });
      // (Services are waited for, for a ready endpoint, in their workload's wave.)
      const waits = (x: Rendered) => waited.includes(x) && WAITED_KINDS.has(x.kind);
      emitUi({
        type: "wave",
        wave: WAVES[wave],
        objects: objs.map((x) => ({
          id: objectId(x),
          status: appliedIn(wave).includes(waveOf(x)) ? "applying" : "applied earlier",
          ready: false,
        })),
      });
      if (toApply.length) ctx.progress(`applying ${plural(toApply.length, "object")}`);
      const outcomes = await Promise.all(
        toApply.map(async (obj) => {
          const outcome = await applyOne(o.kube, obj, live, report);
          if (waveOf(obj) === wave) show(objectId(obj), outcome, !waits(obj));
          return outcome;
        }),
      );
      const early = toApply.filter((x) => waveOf(x) !== wave);
      const components = new Set(waited.filter((x) => WAITED_KINDS.has(x.kind)).map(component));
      const services = o.objects.filter((x) =>
        x.kind === "Service" && components.has(component(x))
      );
      if (wave === "autoscalers") {
        const problem = await metricsApiProblem(o.kube, waited);
        if (problem) throw new CncfdemoError(problem);
      }
      await waitReady(o.kube, waited, services, deadline, ctx, show);
      for (const x of objs) show(objectId(x), waits(x) ? "ready" : "applied", true);
      if (wave === "autoscalers") {
        // An autoscaler may have just changed its target's replica count: wait for the target too.
        await waitReady(o.kube, scaleTargets(o.objects, waited), [], deadline, ctx);
      }
      if (wave === "foundation" && deferred.length) {
        ctx.progress(`validating ${deferred.length} objects in the new namespaces`);
        await validate(o.kube, deferred, live);
      }
      const skipped = objs.length - waited.length;
      const notes = [
        ...(skipped ? [`${skipped} background, not waited for`] : []),
        ...[...groupBy(early, (x) => waveOf(x)).entries()].map(([w, xs]) =>
          `applied ${plural(xs.length, "object")} of "${WAVES[w as WaveId]}" early`
        ),
      ];
      const applied = APPLIED_WITH[wave]
        ? `${plural(waited.length, "object")} ready (applied with "${WAVES[APPLIED_WITH[wave]!]}")`
        : summary(outcomes, false);
      return applied + (notes.length ? ` (${notes.join(", ")})` : "");
    },
  });

  const steps: (Step | StepGroup)[] = [
    {
      name: "Read the live state",
      async run() {
        live = await readLiveState(o.kube);
        return `${live.size} managed objects`;
      },
    },
    {
      name: `Validate ${plural(o.objects.length, "object")} (server-side dry run)`,
      async run() {
        scaleTargets(o.objects);
        const v = await validate(o.kube, o.objects, live);
        deferred = v.deferred;
        if (dryRun) {
          for (const r of v.results) {
            report[r.outcome].push(objectId(r.obj));
            if (o.diff && r.outcome !== "unchanged") {
              report.diffs.push(
                diffOf(objectId(r.obj), live.get(objectId(r.obj)), r.after ?? r.obj),
              );
            }
          }
          for (const d of deferred) {
            report.created.push(objectId(d));
            if (o.diff) report.diffs.push(diffOf(objectId(d), undefined, d));
          }
          return summary([
            ...v.results.map((r) => r.outcome),
            ...deferred.map(() => "created" as const),
          ], true) +
            (deferred.length
              ? ` (${deferred.length} in new namespaces, checked when those exist)`
              : "");
        }
        return `${v.results.length} accepted` +
          (deferred.length
            ? `, ${deferred.length} in new namespaces checked once those exist`
            : "");
      },
    },
  ];
  if (!dryRun) {
    steps.push(
      ...COMMON_WAVES.map(waveStep),
      parallel("Application and monitoring", [
        sequence("Application", APP_WAVES.map(waveStep)),
        sequence("Monitoring", MONITORING_WAVES.map(waveStep)),
      ]),
    );
  }
  if (o.prune !== false) {
    steps.push({
      name: "Prune objects no longer rendered",
      async run(ctx) {
        const rendered = new Set(o.objects.map(objectId));
        const stale = [...live.values()].filter((x) =>
          !rendered.has(objectId(x)) &&
          (COMPONENTS as readonly string[]).includes(
            x.metadata?.labels?.["app.kubernetes.io/component"] ?? "",
          )
        );
        if (!stale.length) return "nothing to prune";
        await deleteInWaves(o.kube, stale, dryRun, deadline, ctx);
        report.pruned.push(...stale.map(objectId));
        if (o.diff) { for (const x of stale) report.diffs.push(diffOf(objectId(x), x, undefined)); }
        return `${dryRun ? "would delete" : "deleted"} ${stale.map(objectId).join(", ")}`;
      },
    });
  }
  return steps;
}

/**
 * Deletes objects in reverse wave order (foreground propagation: a Deployment is gone only once
 * its pods are), waiting for each wave to be gone before the next. Namespaces go last.
 */
export async function deleteInWaves(
  kube: Kube,
  objects: readonly KubernetesObject[],
  dryRun: boolean,
  deadline: Deadline,
  ctx: StepContext,
): Promise<void> {
  const byWave = groupBy(objects, (x) => (x.kind === "Namespace" ? "namespaces" : waveOf(x)));
  const order = [...[...WAVE_ORDER].reverse(), "namespaces"];
  for (const wave of order) {
    const objs = byWave.get(wave);
    if (!objs?.length) continue;
    ctx.progress(`deleting ${plural(objs.length, "object")} (${wave})`);
    await Promise.all(
      objs.map((x) =>
        kube.rest.delete(x as Rendered, { propagationPolicy: "Foreground", dryRun }).catch(
          (err) => {
            throw new CncfdemoError(`Cannot delete ${objectId(x)}: ${errorMessage(err)}`, {
              cause: err,
            });
          },
        )
      ),
    );
    if (dryRun) continue;
    const groups = groupBy(objs, (x) => `${x.apiVersion}|${x.kind}|${x.metadata?.namespace ?? ""}`);
    await Promise.all([...groups.values()].map((group) => {
      const first = group[0]!;
      const names = new Set(group.map((x) => x.metadata?.name));
      return watchUntil<KubernetesObject>(
        kube,
        {
          apiVersion: first.apiVersion!,
          kind: first.kind!,
          namespace: first.kind === "Namespace" ? undefined : first.metadata?.namespace,
        },
        (live) => !live.some((x) => names.has(x.metadata?.name)),
        {
          timeoutMs: deadline.left(),
          describe: (live) =>
            `Still there after ${formatDuration(deadline.totalMs)}: ${
              live.filter((x) => names.has(x.metadata?.name)).map((x) =>
                objectId({ ...x, kind: first.kind })
              ).join(", ")
            }`,
          onChange: (live) =>
            ctx.progress(
              `${live.filter((x) => names.has(x.metadata?.name)).length} ${first.kind} left`,
            ),
        },
      );
    }));
  }
}
