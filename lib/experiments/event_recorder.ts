/**
 * Records what the cluster does during an experiment, from watches (lib/kube/watch.ts): the
 * target's pods (created, Ready, NotReady, deleted), the ready endpoints of its Service, and an
 * autoscaler's desired replicas. Each change becomes an {@link ExperimentEvent} stamped with the
 * time it was seen; `stop()` ends the watches and returns the events.
 */
import type { KubernetesObject, V1Pod } from "@kubernetes/client-node";
import type { Kube } from "../kube/client.ts";
import { type WatchTarget, watchUntil } from "../kube/watch.ts";
import { log } from "../log.ts";
import type { ExperimentEvent } from "./events.ts";

export interface RecorderTargets {
  namespace: string;
  /** The target's pods. */
  podSelector: string;
  /** The Service whose EndpointSlices to follow. */
  service?: string | undefined;
  /** The HorizontalPodAutoscaler to follow. */
  hpa?: string | undefined;
  /** Longest time the watches may run. */
  timeoutMs: number;
}

type Hpa = KubernetesObject & { status?: { desiredReplicas?: number } };
type Slice = KubernetesObject & { endpoints?: { conditions?: { ready?: boolean } }[] };

const isReady = (p: V1Pod) =>
  !p.metadata?.deletionTimestamp &&
  (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

export interface EventRecorder {
  events: ExperimentEvent[];
  /** Adds an event of the experiment's own (kill, step, phase). */
  add(e: Omit<ExperimentEvent, "t_unix_ms"> & { t_unix_ms?: number }): void;
  /** Resolves once every watch has listed its objects (their first state is recorded). */
  synced: Promise<void>;
  /** Ready pods right now. */
  readyPods(): string[];
  stop(): Promise<ExperimentEvent[]>;
  /** Called on every event (progress lines). */
  onEvent?: (e: ExperimentEvent) => void;
}

/** Starts the watches. */
export function recordEvents(kube: Kube, t: RecorderTargets): EventRecorder {
  const events: ExperimentEvent[] = [];
  const stop = new AbortController();
  const rec: EventRecorder = {
    events,
    add(e) {
      const ev = { ...e, t_unix_ms: e.t_unix_ms ?? Date.now() } as ExperimentEvent;
      events.push(ev);
      rec.onEvent?.(ev);
    },
    synced: Promise.resolve(),
    readyPods: () => [...ready],
    async stop() {
      stop.abort(new Error("experiment over"));
      await Promise.allSettled(watches);
      return [...events].sort((a, b) => a.t_unix_ms - b.t_unix_ms);
    },
  };
  const ready = new Set<string>();
  const known = new Set<string>();
  const follow = <T extends KubernetesObject>(
    target: WatchTarget,
    onChange: (objects: T[]) => void,
    synced: () => void,
  ) =>
    watchUntil<T>(kube, target, () => false, {
      timeoutMs: t.timeoutMs,
      describe: () => "",
      onChange: (os) => {
        onChange(os);
        synced();
      },
      signal: stop.signal,
    }).catch((err) => {
      if (!stop.signal.aborted) log.warn(`watch of ${target.kind} ended: ${err}`);
    });

  const syncs: Promise<void>[] = [];
  const syncer = () => {
    const d = Promise.withResolvers<void>();
    syncs.push(d.promise);
    return d.resolve;
  };

  const podsSynced = syncer();
  const watches: Promise<unknown>[] = [
    follow<V1Pod>({
      apiVersion: "v1",
      kind: "Pod",
      namespace: t.namespace,
      labelSelector: t.podSelector,
    }, (pods) => {
      const names = new Set(pods.map((p) => p.metadata!.name!));
      for (const p of pods) {
        const name = p.metadata!.name!;
        if (!known.has(name)) {
          known.add(name);
          rec.add({ kind: "pod-created", subject: name });
        }
        if (isReady(p) && !ready.has(name)) {
          ready.add(name);
          rec.add({ kind: "pod-ready", subject: name, value: ready.size });
        } else if (!isReady(p) && ready.has(name)) {
          ready.delete(name);
          rec.add({ kind: "pod-not-ready", subject: name, value: ready.size });
        }
      }
      for (const name of [...known]) {
        if (names.has(name)) continue;
        known.delete(name);
        if (ready.delete(name)) {
          rec.add({ kind: "pod-not-ready", subject: name, value: ready.size });
        }
        rec.add({ kind: "pod-deleted", subject: name, value: ready.size });
      }
    }, podsSynced),
  ];
  if (t.service) {
    let last = -1;
    const done = syncer();
    watches.push(follow<Slice>({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      namespace: t.namespace,
      labelSelector: `kubernetes.io/service-name=${t.service}`,
    }, (slices) => {
      const n = slices.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready)
        .length;
      if (n !== last) {
        last = n;
        rec.add({ kind: "endpoints", subject: t.service!, value: n });
      }
    }, done));
  }
  if (t.hpa) {
    let last: number | undefined;
    const done = syncer();
    watches.push(follow<Hpa>({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      namespace: t.namespace,
      fieldSelector: `metadata.name=${t.hpa}`,
    }, (hpas) => {
      const d = hpas[0]?.status?.desiredReplicas;
      if (d !== undefined && d !== last) {
        last = d;
        rec.add({ kind: "hpa-desired", subject: t.hpa!, value: d });
      }
    }, done));
  }
  rec.synced = Promise.all(syncs).then(() => {});
  return rec;
}
