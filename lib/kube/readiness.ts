/**
 * One readiness rule per kind, as `kubectl rollout status` and `kubectl wait` judge them:
 * Deployment, StatefulSet, DaemonSet (observed generation, updated and available replicas), Job
 * (Complete, or Failed with its reason), HorizontalPodAutoscaler (able to scale and ScalingActive: its
 * metrics arrive; a target that does not exist yet is waited for),
 * Service (a ready endpoint). Everything else is ready once it exists. And the one rule that stops a
 * wait early for a workload's pods: a container (init containers too) waiting for an image that
 * cannot be pulled ({@link imagePullProblems}).
 */
import type { KubernetesObject } from "@kubernetes/client-node";

export interface Readiness {
  ready: boolean;
  /** Set when the object can never become ready (a failed Job). */
  failed?: string;
  /** A few words for progress lines and deadline messages: `1/3 available`. */
  status: string;
}

// deno-lint-ignore no-explicit-any
type Any = any;

function condition(
  obj: Any,
  type: string,
): { status?: string; reason?: string; message?: string } | undefined {
  return (obj?.status?.conditions ?? []).find((c: Any) => c.type === type);
}

function observed(obj: Any): boolean {
  const gen = obj?.metadata?.generation;
  const seen = obj?.status?.observedGeneration;
  return gen === undefined || (seen !== undefined && seen >= gen);
}

/** A message on one line (the API server's may wrap). */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** `cpu 2%/70%`: an autoscaler's current metrics against their targets (Resource metrics). */
function currentMetrics(hpa: Any): string {
  const targets: Any[] = hpa?.spec?.metrics ?? [];
  return (hpa?.status?.currentMetrics ?? []).filter((m: Any) => m?.type === "Resource").map(
    (m: Any) => {
      const name = m.resource?.name;
      const current = m.resource?.current ?? {};
      const target = targets.find((t) => t?.resource?.name === name)?.resource?.target ?? {};
      const now = current.averageUtilization !== undefined
        ? `${current.averageUtilization}%`
        : current.averageValue ?? "?";
      const want = target.averageUtilization !== undefined
        ? `${target.averageUtilization}%`
        : target.averageValue ?? "?";
      return `${name} ${now}/${want}`;
    },
  ).join(", ");
}

/** Kinds whose readiness is waited for. */
export const WAITED_KINDS = new Set([
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "Job",
  "HorizontalPodAutoscaler",
]);

/** Judges a live object of a waited kind. */
export function readiness(obj: KubernetesObject): Readiness {
  const o = obj as Any;
  const st = o.status ?? {};
  switch (obj.kind) {
    case "Deployment": {
      const want = o.spec?.replicas ?? 1;
      const available = st.availableReplicas ?? 0;
      const status = `${available}/${want} available`;
      if (!observed(o)) return { ready: false, status: "waiting for the controller" };
      const progress = condition(o, "Progressing");
      if (progress?.reason === "ProgressDeadlineExceeded") {
        return {
          ready: false,
          failed: `rollout stalled: ${progress.message ?? "progress deadline exceeded"}`,
          status,
        };
      }
      const ready = (st.updatedReplicas ?? 0) >= want && available >= want &&
        (st.replicas ?? 0) <= want;
      return { ready, status };
    }
    case "StatefulSet": {
      const want = o.spec?.replicas ?? 1;
      const readyN = st.readyReplicas ?? 0;
      const status = `${readyN}/${want} ready`;
      if (!observed(o)) return { ready: false, status: "waiting for the controller" };
      const rolling = (o.spec?.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate";
      const revisionsMatch = !st.updateRevision || !st.currentRevision ||
        st.updateRevision === st.currentRevision;
      const updated = !rolling || (st.updatedReplicas ?? 0) >= want;
      return { ready: readyN >= want && updated && revisionsMatch, status };
    }
    case "DaemonSet": {
      const want = st.desiredNumberScheduled ?? 0;
      const readyN = st.numberReady ?? 0;
      const status = `${readyN}/${want} ready`;
      if (!observed(o)) return { ready: false, status: "waiting for the controller" };
      const ready = (st.updatedNumberScheduled ?? 0) >= want && readyN >= want &&
        (st.numberAvailable ?? 0) >= want;
      return { ready, status };
    }
    case "Job": {
      const failed = condition(o, "Failed");
      if (failed?.status === "True") {
        return {
          ready: false,
          failed: `${failed.reason ?? "Failed"}: ${failed.message ?? "the Job failed"}`,
          status: "failed",
        };
      }
      const complete = condition(o, "Complete");
      if (complete?.status === "True") return { ready: true, status: "complete" };
      return { ready: false, status: `${st.active ?? 0} active, ${st.failed ?? 0} failed` };
    }
    case "HorizontalPodAutoscaler": {
      const able = condition(o, "AbleToScale");
      const active = condition(o, "ScalingActive");
      const replicas = `${st.currentReplicas ?? 0} current, ${
        st.desiredReplicas ?? 0
      } desired replicas`;
      if (!observed(o)) return { ready: false, status: "waiting for the controller" };
      if (able?.status === "False" && able.reason === "FailedGetScale") {
        // Its target does not exist yet (autoscalers are applied before their targets).
        return { ready: false, status: `waiting for its target: ${able.message ?? ""}`.trim() };
      }
      if (able?.status === "False") {
        return {
          ready: false,
          failed: `cannot scale: ${able.message ?? able.reason}`,
          status: replicas,
        };
      }
      if (able?.status !== "True") return { ready: false, status: "waiting for the controller" };
      // ScalingActive is what says the metrics arrive: an autoscaler that can read its target's
      // scale but gets no metrics never scales.
      if (active?.status !== "True") {
        return {
          ready: false,
          status: active
            ? `ScalingActive=${active.status}${active.reason ? ` (${active.reason})` : ""}: ${
              oneLine(active.message ?? "no message")
            }`
            : "ScalingActive not reported yet",
        };
      }
      const metrics = currentMetrics(o);
      return { ready: true, status: metrics ? `${metrics}, ${replicas}` : replicas };
    }
    default:
      return { ready: true, status: "exists" };
  }
}

/** Whether an EndpointSlice list has a ready endpoint. */
export function hasReadyEndpoint(slices: readonly KubernetesObject[]): boolean {
  return slices.some((s) =>
    ((s as Any).endpoints ?? []).some((e: Any) => e?.conditions?.ready !== false)
  );
}

/** Waiting reasons of a container whose image cannot be had: the wait can stop at once. */
export const IMAGE_PULL_REASONS: ReadonlySet<string> = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "ErrImageNeverPull",
]);

/** A container of a pod waiting for an image that cannot be pulled. */
export interface ImagePullProblem {
  namespace: string;
  pod: string;
  container: string;
  /** An init container. */
  init: boolean;
  /** The image as the pod spec names it. */
  image: string;
  /** `ErrImagePull`, `ImagePullBackOff`, `InvalidImageName` or `ErrImageNeverPull`. */
  reason: string;
  /** The kubelet's message, as it wrote it. */
  message: string;
  /** The pod's labels (its component, for messages). */
  labels: Record<string, string>;
}

/**
 * Every container (init containers first) of the given pods that waits for an image it cannot
 * pull. Pods being deleted are left out: they are going, whatever they wait for.
 */
export function imagePullProblems(pods: readonly KubernetesObject[]): ImagePullProblem[] {
  const out: ImagePullProblem[] = [];
  for (const p of pods as Any[]) {
    if (p?.metadata?.deletionTimestamp) continue;
    const specs: Any[] = [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])];
    const statuses: [Any, boolean][] = [
      ...(p.status?.initContainerStatuses ?? []).map((s: Any) => [s, true] as [Any, boolean]),
      ...(p.status?.containerStatuses ?? []).map((s: Any) => [s, false] as [Any, boolean]),
    ];
    for (const [st, init] of statuses) {
      const waiting = st?.state?.waiting;
      if (!waiting || !IMAGE_PULL_REASONS.has(waiting.reason)) continue;
      out.push({
        namespace: p.metadata?.namespace ?? "",
        pod: p.metadata?.name ?? "",
        container: st.name,
        init,
        image: specs.find((c) => c.name === st.name)?.image ?? st.image ?? "",
        reason: waiting.reason,
        message: waiting.message ?? "",
        labels: p.metadata?.labels ?? {},
      });
    }
  }
  return out;
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Whether labels match a label selector (matchLabels and In/NotIn/Exists/DoesNotExist). */
export function selectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[k] !== v) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const ok = e.operator === "In"
      ? has && (e.values ?? []).includes(labels[e.key]!)
      : e.operator === "NotIn"
      ? !has || !(e.values ?? []).includes(labels[e.key]!)
      : e.operator === "Exists"
      ? has
      : e.operator === "DoesNotExist"
      ? !has
      : false;
    if (!ok) return false;
  }
  return true;
}

/** Kinds whose pods {@link podsOf} finds. */
export const POD_OWNERS: ReadonlySet<string> = new Set([
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "Job",
]);

/**
 * The pods of a workload (Deployment, StatefulSet, DaemonSet, Job), found by its selector; a Job
 * as rendered has none yet, so its pods are found by the label the Job controller gives them.
 */
export function podsOf<P extends KubernetesObject>(
  workload: KubernetesObject,
  pods: readonly P[],
): P[] {
  const w = workload as Any;
  const selector: LabelSelector | undefined = w.spec?.selector ??
    (w.kind === "Job"
      ? { matchLabels: { "batch.kubernetes.io/job-name": w.metadata?.name } }
      : undefined);
  if (!selector || !POD_OWNERS.has(w.kind)) return [];
  const ns = w.metadata?.namespace;
  return pods.filter((p) =>
    (ns === undefined || p.metadata?.namespace === ns) &&
    selectorMatches(selector, p.metadata?.labels ?? {})
  );
}

/** The images a workload's pod template names (init containers too). */
export function templateImages(workload: KubernetesObject): Set<string> {
  const spec = (workload as Any).spec?.template?.spec ?? {};
  return new Set(
    [...(spec.initContainers ?? []), ...(spec.containers ?? [])].map((c: Any) => c.image),
  );
}

/**
 * The image pull problems of these workloads' pods. Only images the workloads name now count:
 * a pod left from an earlier revision (an image since fixed) is on its way out.
 */
export function workloadImagePullProblems(
  workloads: readonly KubernetesObject[],
  pods: readonly KubernetesObject[],
): ImagePullProblem[] {
  return workloads.flatMap((w) => {
    const images = templateImages(w);
    return imagePullProblems(podsOf(w, pods)).filter((p) => images.has(p.image));
  });
}

/**
 * A kubelet message shortened for one line: the gRPC wrapping dropped, whitespace collapsed, and
 * a long chain of causes cut to its first and last links (the cause is usually last).
 */
export function shortenKubeletMessage(message: string, max = 200): string {
  const text = message.replace(/rpc error: code = \w+ desc = /g, "").replace(/\s+/g, " ").trim();
  if (text.length <= max) return text;
  const parts = text.split(": ");
  if (parts.length >= 3) {
    const short = `${parts[0]}: … ${parts.slice(-2).join(": ")}`;
    if (short.length <= max) return short;
  }
  return `${text.slice(0, max - 1)}…`;
}
