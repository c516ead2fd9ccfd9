/**
 * Fitting the stack to a cluster that runs containers, before `deno task demo` rolls it out:
 * components whose images the nodes cannot get are switched off (with what then cannot run or
 * has no one left to serve), one line each; when Countly is off, the benchmark loads the bench
 * target instead (switched on); and when the benchmark cannot run, it says why.
 */
import type { V1Node } from "@kubernetes/client-node";
import { DEFAULT_WRK_IMAGE } from "../bench/generator_defaults.ts";
import type { Component } from "./components.ts";
import { missingImagesOn, whyUnavailable } from "./image_availability.ts";
import { renderStack } from "./render.ts";
import { freshSecrets } from "./secrets.ts";
import { isEnabled, SWITCHES, type SwitchId, switchOf, switchOff } from "./switches.ts";
import { imageOf, type Values } from "./values.ts";

export interface Fit {
  /** One line per switch turned off or on: `grafana: off — docker.io/grafana/… is not on the node …`. */
  notes: string[];
  /** The URL the benchmark should load instead of Countly (the bench target). */
  benchUrl?: string;
  /** Why the benchmark cannot run here. */
  benchSkip?: string;
}

/** `a`, `a and b`, `a, b and c`. */
function listed(items: readonly string[]): string {
  return items.length <= 1
    ? items.join("")
    : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/**
 * Changes `values` (in place) so that everything switched on can run on `nodes`; `bench`: the
 * demo will benchmark, so its target and generators must be able to run too.
 */
export async function fitToNodes(
  values: Values,
  nodes: readonly V1Node[],
  o: { bench: boolean },
): Promise<Fit> {
  const fit: Fit = { notes: [] };
  const missing = missingImagesOn(nodes, await renderStack(values, freshSecrets()));
  // The broadest switch per component wins (Countly's, not only its dashboard's).
  const wanted = [...new Set(missing.map((m) => switchOf(m.component)))];
  const broadest = (c: Component): SwitchId =>
    wanted.filter((id) => (SWITCHES[id].components as readonly Component[]).includes(c))
      .sort((a, b) => SWITCHES[b].components.length - SWITCHES[a].components.length)[0]!;
  const why = new Map<SwitchId, { images: string[]; reasons: Set<string> }>();
  for (const m of missing) {
    const id = broadest(m.component);
    const w = why.get(id) ?? { images: [], reasons: new Set() };
    if (!w.images.includes(m.image)) w.images.push(m.image);
    w.reasons.add(m.reason);
    why.set(id, w);
  }
  const off = switchOff(
    values,
    [...why.entries()].map(([id, w]) => ({
      id,
      why: `${listed(w.images)} ${w.images.length === 1 ? "is" : "are"} ${
        [...w.reasons].join("; ")
      }`,
    })),
  );
  for (const s of off) fit.notes.push(`${s.components.join(", ")}: off — ${s.why}`);

  if (!o.bench) return fit;
  const wrk = whyUnavailable(nodes, DEFAULT_WRK_IMAGE);
  if (wrk) {
    fit.benchSkip = `${DEFAULT_WRK_IMAGE} (the load generators) is ${wrk}`;
    return fit;
  }
  if (!isEnabled(values, "pushgateway")) {
    fit.benchSkip =
      `the Pushgateway is off (${SWITCHES.pushgateway.key}=false): the generators report through it`;
    return fit;
  }
  if (isEnabled(values, "countly-api")) return fit;
  const url = `http://bench-target.${values.namespace}/`;
  if (!isEnabled(values, "bench-target")) {
    const image = imageOf(values.images.benchTarget);
    const reason = whyUnavailable(nodes, image);
    if (reason) {
      fit.benchSkip = `Countly is off and ${image} (the bench target) is ${reason}`;
      return fit;
    }
    values.benchTarget.enabled = true;
    fit.notes.push(`bench-target: on — Countly is off: the benchmark loads ${url}`);
  }
  fit.benchUrl = url;
  return fit;
}
