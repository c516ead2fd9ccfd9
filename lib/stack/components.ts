/**
 * The components of the demo stack: every rendered object carries exactly one of these as its
 * `app.kubernetes.io/component` label; each has a folder of templates in `templates/`.
 */
export const COMPONENTS = [
  "prometheus",
  "pushgateway",
  "node-exporter",
  "grafana",
  "mongo-config",
  "mongo-shard",
  "mongos",
  "mongo-init",
  "countly-api",
  "countly-dashboard",
  "boinc",
  "bench-target",
] as const;

export type Component = (typeof COMPONENTS)[number];

/** Components that live in the monitoring namespace; the rest live in the app namespace. */
export const MONITORING: ReadonlySet<Component> = new Set([
  "prometheus",
  "pushgateway",
  "node-exporter",
  "grafana",
]);

export const PART_OF = "cncfdemo";
export const MANAGED_BY = "cncfdemo";
export const FIELD_MANAGER = "cncfdemo";

/** The label selector matching everything the rollout manages. */
export const MANAGED_SELECTOR =
  `app.kubernetes.io/part-of=${PART_OF},app.kubernetes.io/managed-by=${MANAGED_BY}`;

/** The labels every object of a component carries. */
export function commonLabels(component: Component): Record<string, string> {
  return {
    "app.kubernetes.io/part-of": PART_OF,
    "app.kubernetes.io/managed-by": MANAGED_BY,
    "app.kubernetes.io/component": component,
  };
}
