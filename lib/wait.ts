/**
 * Waiting with deadlines: a timeout around a promise, and polling for conditions that have no
 * watch (a process exiting, a port answering). Kubernetes objects are waited on with watches
 * (lib/kube/), never by polling here.
 */
import { TimeoutError } from "./errors.ts";

/** Resolves after `ms`, or rejects early when `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Settles like `promise`, or rejects with a {@link TimeoutError} carrying `message` after `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimeoutError(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface PollOptions {
  timeoutMs: number;
  /** First interval; doubles up to maxIntervalMs. */
  intervalMs?: number;
  maxIntervalMs?: number;
  /** Called at the deadline to say what was still not true. */
  describe: () => string;
  signal?: AbortSignal;
}

/**
 * Calls `check` until it returns a value other than undefined/false, with backoff, until the
 * deadline; then throws a {@link TimeoutError} whose message is `describe()`.
 */
export async function pollUntil<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: PollOptions,
): Promise<T> {
  const deadline = performance.now() + options.timeoutMs;
  let interval = options.intervalMs ?? 50;
  const max = options.maxIntervalMs ?? 1_000;
  while (true) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    const left = deadline - performance.now();
    if (left <= 0) throw new TimeoutError(options.describe());
    await delay(Math.min(interval, left), options.signal);
    interval = Math.min(interval * 2, max);
  }
}
