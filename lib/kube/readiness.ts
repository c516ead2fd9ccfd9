/**
 * One readiness rule per kind, as `kubectl rollout status` and `kubectl wait` judge them:
 * Deployment, StatefulSet, DaemonSet (observed generation, updated and available replicas), Job
 * (Complete, or Failed with its reason), HorizontalPodAutoscaler (the controller has taken it on;
 * a target that does not exist yet is waited for),
 * Service (a ready endpoint). Everything else is ready once it exists.
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
      const ready = observed(o) && able?.status === "True";
      const status = `${st.currentReplicas ?? 0} current, ${
        st.desiredReplicas ?? 0
      } desired replicas`;
      if (able?.status === "False" && able.reason === "FailedGetScale") {
        // Its target does not exist yet (autoscalers are applied before their targets).
        return { ready: false, status: `waiting for its target: ${able.message ?? ""}`.trim() };
      }
      if (able?.status === "False") {
        return { ready: false, failed: `cannot scale: ${able.message ?? able.reason}`, status };
      }
      return { ready, status };
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
