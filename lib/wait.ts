/**
 * Waiting with deadlines (kind's `until`, std's `deadline`): one absolute {@link Deadline} is made
 * once per task from its `--timeout` and handed to every wait of the task, so waits one after the
 * other share the time instead of each getting all of it. Also a timeout around a promise, and
 * polling for conditions that have no watch (a process exiting, a port answering). Kubernetes
 * objects are waited on with watches (lib/kube/), given `deadline.left()`.
 */
import { formatDuration } from "./duration.ts";
import { TimeoutError } from "./errors.ts";

/** An absolute deadline on the `performance.now()` clock. */
export class Deadline {
  /** When it passes, on the `performance.now()` clock. */
  readonly end: number;
  constructor(readonly totalMs: number, now: number = performance.now()) {
    this.end = now + totalMs;
  }
  /** Milliseconds left (0 once passed). */
  left(): number {
    return Math.max(this.end - performance.now(), 0);
  }
  /** True once it has passed. */
  get passed(): boolean {
    return this.left() <= 0;
  }
  /** The whole allowance, for messages: `within 5s`. */
  get within(): string {
    return `within ${formatDuration(this.totalMs)}`;
  }
  /** The earlier of this deadline and `ms` from now (a bound of one wait inside the task's). */
  cap(ms: number): Deadline {
    return ms < this.left() ? new Deadline(ms) : this;
  }
}

/** A deadline `ms` from now: make one per task from its `--timeout`. */
export function deadline(ms: number): Deadline {
  return new Deadline(ms);
}

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

interface PollTiming {
  /** First interval; doubles up to maxIntervalMs. */
  intervalMs?: number;
  maxIntervalMs?: number;
  /** Called at the deadline to say what was still not true. */
  describe: () => string;
  signal?: AbortSignal;
}

/**
 * How long {@link pollUntil} may poll: the task's `deadline` (a task's waits), or `timeoutMs` from
 * now (a bound of its own, for waits that are not a task's: test support, a process stopping).
 */
export type PollOptions =
  & PollTiming
  & ({ deadline: Deadline; timeoutMs?: never } | { timeoutMs: number; deadline?: never });

/**
 * Calls `check` until it returns a value other than undefined/false, with backoff, until the
 * deadline; then throws a {@link TimeoutError} whose message is `describe()`.
 */
export async function pollUntil<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: PollOptions,
): Promise<T> {
  const until = options.deadline ?? new Deadline(options.timeoutMs!);
  let interval = options.intervalMs ?? 50;
  const max = options.maxIntervalMs ?? 1_000;
  while (true) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    const left = until.left();
    if (left <= 0) throw new TimeoutError(options.describe());
    await delay(Math.min(interval, left), options.signal);
    interval = Math.min(interval * 2, max);
  }
}
