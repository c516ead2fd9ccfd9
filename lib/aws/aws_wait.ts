/**
 * The AWS SDK's waiters (`waitUntil…`) within the task's deadline, for waits that need no progress
 * of their own: the time left is their `maxWaitTime`, and running out of it is a
 * {@link TimeoutError} whose message says what was not ready, like every other wait (lib/wait.ts).
 */
import { CncfdemoError, errorMessage, TimeoutError } from "../errors.ts";
import type { Deadline } from "../wait.ts";

/** The configuration every SDK waiter takes (seconds). */
interface WaiterConfig<C> {
  client: C;
  maxWaitTime: number;
  minDelay?: number;
  maxDelay?: number;
}

export interface AwsWaiterOptions {
  deadline: Deadline;
  /** Said at the deadline: what was still not ready. */
  describe: () => string;
  /** Said when the waiter fails (a failure state, not the deadline); default `describe`. */
  failed?: () => string;
  /** Seconds between the first polls (default 1) and at most (default 10). */
  minDelay?: number;
  maxDelay?: number;
}

/** Runs `waiter` (e.g. `waitUntilGroupNotExists`) on `client` until it succeeds or the deadline. */
export async function awsWaiter<C, I>(
  waiter: (config: WaiterConfig<C>, input: I) => Promise<unknown>,
  client: C,
  input: I,
  o: AwsWaiterOptions,
): Promise<void> {
  const minDelay = o.minDelay ?? 1;
  // The SDK wants more than minDelay seconds; with less left, one check is all there is time for.
  const maxWaitTime = Math.max(o.deadline.left() / 1000, minDelay + 0.001);
  try {
    await waiter({ client, maxWaitTime, minDelay, maxDelay: o.maxDelay ?? 10 }, input);
  } catch (err) {
    const name = err instanceof Error ? err.name : "";
    if (name === "TimeoutError") throw new TimeoutError(o.describe(), { cause: err });
    throw new CncfdemoError(`${(o.failed ?? o.describe)()}: ${errorMessage(err).slice(0, 300)}`, {
      cause: err,
    });
  }
}
