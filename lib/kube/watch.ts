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

/** The REST path of a collection (`/apis/apps/v1/namespaces/x/deployments`), via discovery. */
export async function collectionPath(kube: Kube, t: WatchTarget): Promise<string> {
  return await kube.rest.path({
    apiVersion: t.apiVersion,
    kind: t.kind,
    metadata: t.namespace ? { namespace: t.namespace } : {},
  });
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
          const list = await kube.rest.listPath<T>(path, {
            labelSelector: target.labelSelector,
            fieldSelector: target.fieldSelector,
          });
          items.clear();
          for (const o of list.items) {
            items.set(keyOf(o), { ...o, apiVersion: target.apiVersion, kind: target.kind });
          }
          check();
          if (finished) return;
          controller = new AbortController();
          await kube.rest.watch<T>(
            path,
            {
              resourceVersion: list.resourceVersion,
              allowWatchBookmarks: "true",
              labelSelector: target.labelSelector,
              fieldSelector: target.fieldSelector,
            },
            (e) => {
              if (e.type === "ADDED" || e.type === "MODIFIED") items.set(keyOf(e.object), e.object);
              else if (e.type === "DELETED") items.delete(keyOf(e.object));
              else if (e.type === "ERROR") {
                // e.g. 410 Gone: the resourceVersion is too old; list again
                lastError = new CncfdemoError(e.object.message ?? `watch error ${e.object.code}`);
                controller?.abort();
              } else return;
              check();
            },
            controller.signal,
          );
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
