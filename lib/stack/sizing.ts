/**
 * Memory settings derived from a container's memory limit, so that a program sizes itself to the
 * container rather than to the node it runs on:
 *
 * - Node.js (Countly): V8's old-space heap cap (`--max-old-space-size`) per process. Countly's API
 *   runs a master and `api.workers` worker processes in one container, each with its own heap, so
 *   the budget is shared: 70% of the limit over the processes, the rest left for each process's
 *   young generation, code and buffers.
 * - MongoDB: WiredTiger's cache (`--wiredTigerCacheSizeGB`). mongod sizes it by default from the
 *   machine's memory, 50% of (RAM − 1 GB), at least 0.25 GB; here the same rule over the container
 *   limit, which also leaves room for the mongosh readiness probes run inside the container.
 */
import { UsageError } from "../errors.ts";
import { parseQuantity } from "../quantity.ts";

const MIB = 2 ** 20;
const GIB = 2 ** 30;

/** Share of a container's memory limit given to Node.js heaps. */
export const NODE_HEAP_SHARE = 0.7;
/** Below this a Countly process does not start reliably. */
export const MIN_NODE_HEAP_MIB = 128;

function bytesOf(limit: string): number {
  const bytes = parseQuantity(limit);
  if (bytes === undefined || bytes <= 0) {
    throw new UsageError(
      `Cannot use the memory limit "${limit}": expected a quantity like 512Mi or 2Gi`,
    );
  }
  return bytes;
}

/** `--max-old-space-size` (MiB) for each of `processes` Node.js processes under `limit`. */
export function nodeHeapMiB(limit: string, processes: number): number {
  return Math.floor((bytesOf(limit) / MIB) * NODE_HEAP_SHARE / Math.max(1, processes));
}

/** `--wiredTigerCacheSizeGB` for a mongod whose container may use `limit`: two decimals. */
export function wiredTigerCacheGB(limit: string): number {
  const gb = Math.max(0.25, 0.5 * (bytesOf(limit) / GIB - 1));
  return Math.floor(gb * 100) / 100;
}
