/**
 * What happened during an experiment besides the load: a kill, pods going NotReady and Ready,
 * the autoscaler's decisions, a load step, background phases — each with its time, so figures
 * can be computed from these events and the per-second series alone.
 */

export type EventKind =
  | "kill"
  | "pod-created"
  | "pod-ready"
  | "pod-not-ready"
  | "pod-deleted"
  | "endpoints"
  | "step"
  | "hpa-desired"
  | "phase";

export interface ExperimentEvent {
  /** When it happened or was seen (ms since the epoch). */
  t_unix_ms: number;
  kind: EventKind;
  /** The object (pod name, HPA name, phase name). */
  subject: string;
  /** A number the event carries: ready pods, ready endpoints, desired replicas, a new rate. */
  value?: number;
  detail?: string;
}

/** The events of a kind, in time order. */
export function eventsOf(
  events: readonly ExperimentEvent[],
  kind: EventKind,
): ExperimentEvent[] {
  return events.filter((e) => e.kind === kind).sort((a, b) => a.t_unix_ms - b.t_unix_ms);
}
