/**
 * Waiting on Kubernetes objects with watches: list once, then follow the watch from the list's
 * resourceVersion, re-listing when the watch ends or expires, until a condition over the current
 * set of objects holds — or a deadline, whose error names what was still not ready.
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import { CncfdemoError, errorMessage, TimeoutError } from "../errors.ts";
import { log } from "../log.ts";
import { delay } from "../wait.ts";
import type { Kube } from "./client.ts";

/** Which objects to follow. */
export interface WatchTarget {
  apiVersion: string;
  kind: string;
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
}

interface ApiResource {
  name: string;
  namespaced: boolean;
  kind: string;
}

interface ResourceLookup {
  resource(apiVersion: string, kind: string): Promise<ApiResource | undefined>;
}

/** The REST path of a collection (`/apis/apps/v1/namespaces/x/deployments`), via discovery. */
export async function collectionPath(kube: Kube, t: WatchTarget): Promise<string> {
  // KubernetesObjectApi resolves kinds through the discovery API and caches the answer; its
  // `resource` method is not in the type declarations, so it is reached through a narrow cast.
  const res = await (kube.objects as unknown as ResourceLookup).resource(t.apiVersion, t.kind);
  if (!res) throw new Error(`The API server does not serve ${t.kind} (${t.apiVersion})`);
  const base = t.apiVersion.includes("/") ? `/apis/${t.apiVersion}` : `/api/${t.apiVersion}`;
  const ns = res.namespaced && t.namespace ? `/namespaces/${encodeURIComponent(t.namespace)}` : "";
  return `${base}${ns}/${res.name}`;
}

export interface WatchUntilOptions<T> {
  timeoutMs: number;
  /** Says what is still not ready; used for the deadline's error. */
  describe: (objects: T[]) => string;
  /** Called after every change (for progress lines). */
  onChange?: (objects: T[]) => void;
  /** Returns a message when the objects can never satisfy the condition (a failed Job): stop now. */
  fail?: (objects: T[]) => string | undefined;
  signal?: AbortSignal;
}

function keyOf(o: KubernetesObject): string {
  return `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
}

/**
 * Follows the objects matching `target` until `done(objects)` is true; returns those objects.
 * Throws a {@link TimeoutError} with `describe(objects)` when `timeoutMs` passes first.
 */
export async function watchUntil<T extends KubernetesObject>(
  kube: Kube,
  target: WatchTarget,
  done: (objects: T[]) => boolean,
  options: WatchUntilOptions<T>,
): Promise<T[]> {
  const path = await collectionPath(kube, target);
  const items = new Map<string, T>();
  const values = () => [...items.values()];
  let finished = false;
  let lastError: unknown;
  let controller: AbortController | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  return await new Promise<T[]>((resolve, reject) => {
    const finish = (err?: unknown) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      controller?.abort();
      if (err) reject(err);
      else resolve(values());
    };
    const onAbort = () => finish(options.signal?.reason ?? new Error("aborted"));
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) return onAbort(); // aborted while the path was looked up
    timer = setTimeout(() => {
      const why = lastError === undefined
        ? ""
        : ` (the API server last said: ${errorMessage(lastError)})`;
      finish(new TimeoutError(options.describe(values()) + why));
    }, options.timeoutMs);
    const check = () => {
      if (finished) return;
      const now = values();
      options.onChange?.(now);
      const failure = options.fail?.(now);
      if (failure) finish(new CncfdemoError(failure));
      else if (done(now)) finish();
    };

    const listAndWatch = async (): Promise<void> => {
      while (!finished) {
        try {
          const list = await kube.objects.list<T>(
            target.apiVersion,
            target.kind,
            target.namespace,
            undefined,
            undefined,
            undefined,
            target.fieldSelector,
            target.labelSelector,
          );
          items.clear();
          for (const o of list.items) items.set(keyOf(o), o);
          check();
          if (finished) return;
          const ended = Promise.withResolvers<void>();
          controller = await kube.watch().watch(
            path,
            {
              resourceVersion: list.metadata?.resourceVersion,
              allowWatchBookmarks: true,
              labelSelector: target.labelSelector,
              fieldSelector: target.fieldSelector,
            },
            (phase, obj: T) => {
              if (phase === "ADDED" || phase === "MODIFIED") items.set(keyOf(obj), obj);
              else if (phase === "DELETED") items.delete(keyOf(obj));
              else if (phase === "ERROR") controller?.abort(); // e.g. 410 Gone: list again
              else return;
              check();
            },
            (err) => {
              if (err && !finished) {
                lastError = err;
                log.debug(`watch ${path} ended: ${err}`);
              }
              ended.resolve();
            },
          );
          if (finished) controller.abort();
          await ended.promise;
        } catch (err) {
          if (finished) return;
          lastError = err;
          log.debug(`list/watch ${path} failed, retrying: ${err}`);
          await delay(500);
        }
      }
    };
    listAndWatch().catch(finish);
  });
}
