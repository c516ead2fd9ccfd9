/**
 * Switching components off in values, as charts do (`<group>.enabled=false`). A switched-off
 * component renders nothing, so a rollout prunes what it had made. Some switches depend on others:
 * Countly needs MongoDB and Grafana needs Prometheus (its one data source); MongoDB serves only
 * Countly and node-exporter only Prometheus, so they may not stay on alone. Contradictions are
 * refused in one line before anything is rendered or applied.
 */
import { UsageError } from "../errors.ts";
import type { Component } from "./components.ts";
import type { Values } from "./values.ts";

/** One `enabled` value and the components it switches. */
export interface Switch {
  /** The value's path: `mongo.enabled`. */
  readonly key: string;
  /** For messages: `MongoDB`. */
  readonly title: string;
  readonly components: readonly Component[];
}

export const SWITCHES = {
  prometheus: { key: "prometheus.enabled", title: "Prometheus", components: ["prometheus"] },
  pushgateway: {
    key: "pushgateway.enabled",
    title: "the Pushgateway",
    components: ["pushgateway"],
  },
  nodeExporter: {
    key: "nodeExporter.enabled",
    title: "node-exporter",
    components: ["node-exporter"],
  },
  grafana: { key: "grafana.enabled", title: "Grafana", components: ["grafana"] },
  mongo: {
    key: "mongo.enabled",
    title: "MongoDB",
    components: ["mongo-config", "mongo-shard", "mongos", "mongo-init"],
  },
  countly: {
    key: "countly.enabled",
    title: "Countly",
    components: ["countly-api", "countly-dashboard"],
  },
  countlyDashboard: {
    key: "countly.dashboard.enabled",
    title: "Countly's dashboard",
    components: ["countly-dashboard"],
  },
  boinc: { key: "boinc.enabled", title: "BOINC", components: ["boinc"] },
  benchTarget: {
    key: "benchTarget.enabled",
    title: "the bench target",
    components: ["bench-target"],
  },
} as const satisfies Record<string, Switch>;

export type SwitchId = keyof typeof SWITCHES;

const IDS = Object.keys(SWITCHES) as SwitchId[];

/** `a` cannot run without `b`. */
const NEEDS: readonly (readonly [SwitchId, SwitchId])[] = [
  ["countly", "mongo"],
  ["grafana", "prometheus"],
];

/** `a` is there only for `b`: on while `b` is off is a mistake. */
const ONLY_FOR: readonly (readonly [SwitchId, SwitchId])[] = [
  ["mongo", "countly"],
  ["nodeExporter", "prometheus"],
];

/** The value at a dotted path. */
function valueAt(values: Values, path: string): unknown {
  let v: unknown = values;
  for (const k of path.split(".")) v = (v as Record<string, unknown> | undefined)?.[k];
  return v;
}

/** Whether a switch's own value is on (`true`). */
export function switchOn(values: Values, id: SwitchId): boolean {
  return valueAt(values, SWITCHES[id].key) === true;
}

/** Whether a component renders: every switch that covers it is on. */
export function isEnabled(values: Values, component: Component): boolean {
  return IDS.every((id) =>
    !(SWITCHES[id].components as readonly Component[]).includes(component) ||
    switchOn(values, id)
  );
}

/** The narrowest switch of a component (`countly-dashboard` → `countly.dashboard.enabled`). */
export function switchOf(component: Component): SwitchId {
  const covering = IDS.filter((id) =>
    (SWITCHES[id].components as readonly Component[]).includes(component)
  );
  return covering.sort((a, b) => SWITCHES[a].components.length - SWITCHES[b].components.length)[0]!;
}

/** `countly.enabled` is off because of the parent switch too: the dashboard is off with Countly. */
function effectivelyOn(values: Values, id: SwitchId): boolean {
  return switchOn(values, id) && SWITCHES[id].components.some((c) => isEnabled(values, c));
}

/** Refuses contradictory switches in one line (UsageError), before anything is rendered. */
export function checkSwitches(values: Values): void {
  for (const [a, b] of NEEDS) {
    if (effectivelyOn(values, a) && !effectivelyOn(values, b)) {
      const s = SWITCHES[a];
      throw new UsageError(
        `${s.key}=true needs ${
          SWITCHES[b].key
        }=true: switch ${s.title} off too (--set ${s.key}=false)`,
      );
    }
  }
  for (const [a, b] of ONLY_FOR) {
    if (effectivelyOn(values, a) && !effectivelyOn(values, b)) {
      const s = SWITCHES[a];
      throw new UsageError(
        `${s.key}=true serves only ${SWITCHES[b].title}, which is off (${
          SWITCHES[b].key
        }=false): switch ${s.title} off too (--set ${s.key}=false)`,
      );
    }
  }
}

/** A switch turned off, and why. */
export interface SwitchedOff {
  id: SwitchId;
  key: string;
  components: readonly Component[];
  why: string;
}

/**
 * Turns the given switches off in `values` (in place), then whatever can no longer run or has no
 * one left to serve, until the values are consistent. Returns every switch it turned off, in
 * order, with its reason; switches already off are left out.
 */
export function switchOff(
  values: Values,
  wanted: readonly { id: SwitchId; why: string }[],
): SwitchedOff[] {
  const out: SwitchedOff[] = [];
  const off = (id: SwitchId, why: string) => {
    if (!switchOn(values, id)) return;
    const s = SWITCHES[id];
    const path = s.key.split(".");
    let node = values as unknown as Record<string, unknown>;
    for (const k of path.slice(0, -1)) node = node[k] as Record<string, unknown>;
    node[path.at(-1)!] = false;
    out.push({ id, key: s.key, components: s.components, why });
  };
  for (const w of wanted) off(w.id, w.why);
  for (let changed = true; changed;) {
    const before = out.length;
    for (const [a, b] of NEEDS) {
      if (effectivelyOn(values, a) && !effectivelyOn(values, b)) {
        off(a, `needs ${SWITCHES[b].title}, which is off`);
      }
    }
    for (const [a, b] of ONLY_FOR) {
      if (effectivelyOn(values, a) && !effectivelyOn(values, b)) {
        off(a, `serves only ${SWITCHES[b].title}, which is off`);
      }
    }
    changed = out.length > before;
  }
  return out;
}

/**
 * The `--set` flags that switch a component off with everything that depends on it (assuming
 * the rest is on): `--set mongo.enabled=false --set countly.enabled=false` for mongo-init.
 */
export function switchOffFlags(component: Component): string {
  // A values object holding only the switches, all on.
  const v: Record<string, unknown> = {};
  for (const id of IDS) {
    const path = SWITCHES[id].key.split(".");
    let node = v;
    for (const k of path.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>;
    node[path.at(-1)!] = true;
  }
  return switchOff(v as unknown as Values, [{ id: switchOf(component), why: "" }])
    .map((s) => `--set ${s.key}=false`).join(" ");
}
