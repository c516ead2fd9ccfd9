/**
 * The order the stack is applied in. Dependency waves, applied one after the other, each applied
 * in parallel and waited for before the next: namespaces and priority classes → RBAC, config,
 * secrets and services → MongoDB replica sets → their init Jobs → mongos → adding the shards →
 * Countly, BOINC and the bench target → autoscalers. Monitoring depends on nothing after the config wave, so it runs
 * as its own track beside the application's waves.
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import { type Component, MONITORING } from "./components.ts";

export const WAVES = {
  foundation: "Namespaces and priority classes",
  config: "RBAC, configuration, secrets and services",
  mongo: "MongoDB replica sets",
  "mongo-init": "Initiate the replica sets",
  mongos: "mongos routers",
  "mongo-shards": "Add the shards, create the Countly app",
  apps: "Countly, BOINC and the bench target",
  autoscalers: "Autoscalers",
  monitoring: "Prometheus, Pushgateway, node-exporter, Grafana",
} as const;

export type WaveId = keyof typeof WAVES;

/** Waves before the tracks split. */
export const COMMON_WAVES: readonly WaveId[] = ["foundation", "config"];
/** The application track, in order. */
export const APP_WAVES: readonly WaveId[] = [
  "mongo",
  "mongo-init",
  "mongos",
  "mongo-shards",
  "apps",
  "autoscalers",
];
/** The monitoring track. */
export const MONITORING_WAVES: readonly WaveId[] = ["monitoring"];
/**
 * Waves applied early, together with another wave, and still waited for in their own place. The
 * HorizontalPodAutoscaler controller first looks at a new autoscaler one full sync period after
 * it is created (15s by default), whatever exists by then; creating the autoscalers with the
 * configuration lets that fixed wait pass while MongoDB and Countly come up. An autoscaler cannot
 * act before its target exists, and the rollout checks that every target is rendered.
 */
export const APPLIED_WITH: Partial<Record<WaveId, WaveId>> = { autoscalers: "config" };

/** The waves whose objects are applied in `wave`'s step: itself (unless applied early) and those applied with it. */
export function appliedIn(wave: WaveId): WaveId[] {
  return [
    ...(APPLIED_WITH[wave] ? [] : [wave]),
    ...(Object.keys(APPLIED_WITH) as WaveId[]).filter((w) => APPLIED_WITH[w] === wave),
  ];
}

/** All waves in apply order (the tracks flattened); teardown goes in reverse. */
export const WAVE_ORDER: readonly WaveId[] = [...COMMON_WAVES, ...APP_WAVES, ...MONITORING_WAVES];

const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"]);

/** The wave an object belongs to: its `cncfdemo.io/wave` annotation, else by kind and component. */
export function waveOf(obj: KubernetesObject): WaveId {
  const explicit = obj.metadata?.annotations?.["cncfdemo.io/wave"];
  if (explicit && explicit in WAVES) return explicit as WaveId;
  const component = obj.metadata?.labels?.["app.kubernetes.io/component"] as Component | undefined;
  switch (obj.kind) {
    case "Namespace":
    case "PriorityClass":
    case "CustomResourceDefinition":
      return "foundation";
    case "HorizontalPodAutoscaler":
      return component && MONITORING.has(component) ? "monitoring" : "autoscalers";
  }
  if (!WORKLOADS.has(obj.kind ?? "")) return "config";
  if (component && MONITORING.has(component)) return "monitoring";
  switch (component) {
    case "mongo-config":
    case "mongo-shard":
      return "mongo";
    case "mongos":
      return "mongos";
    case "mongo-init":
      return "mongo-init";
    default:
      return "apps";
  }
}
