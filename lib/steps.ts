/**
 * The step runner: multi-step work as a list of named steps, each with a start and an end status
 * line (✓/✗ and elapsed time), a spinner only on a terminal (`spinner` of lib/log.ts), plain lines
 * otherwise, and a timeline of every step at the end — also when a step fails. Whoever wants to
 * follow the steps live (a UI) subscribes with {@link onStepEvent}: every start, progress message
 * and end of every run is emitted there, from one place.
 *
 * @example
 * await runSteps([
 *   { name: "Resolve binaries", run: async (ctx) => { ctx.progress("kubectl"); return "cached"; } },
 *   parallel("Apply wave 1", [stepA, stepB]),
 * ]);
 */
import type { ProgressBar } from "dax";
import { errorMessage } from "./errors.ts";
import { formatDuration } from "./duration.ts";
import { isInteractive, log, spinner } from "./log.ts";

/** Handed to each step while it runs. */
export interface StepContext {
  /** Updates what the step is doing: the spinner's text on a terminal, a throttled line otherwise. */
  progress(message: string): void;
  /** Prints a line under the step (kept in the output). */
  note(message: string): void;
}

/** One named piece of work. It may return a short detail for its end line (`unchanged`, `3 nodes`). */
export interface Step {
  readonly name: string;
  run(ctx: StepContext): Promise<string | void>;
}

/**
 * Steps grouped under one name: `parallel` ones run at the same time (the group ends when all
 * ended); `sequence` ones run in order. A sequence may be a function, called when the group
 * starts, for steps that only earlier steps can work out.
 */
export type StepGroup =
  | { readonly name: string; readonly parallel: readonly (Step | StepGroup)[] }
  | {
    readonly name: string;
    readonly sequence:
      | readonly (Step | StepGroup)[]
      | (() => readonly (Step | StepGroup)[] | Promise<readonly (Step | StepGroup)[]>);
  };

/** What the timeline records of each step. */
export interface StepRecord {
  name: string;
  ok: boolean;
  ms: number;
  /** When the step started, on the runner's clock (default performance.now(): ms since the command started). */
  startMs?: number;
  detail?: string;
  depth: number;
  /** Steps inside a group, in their declared order. */
  children: StepRecord[];
}

export interface RunOptions {
  /** Print the timeline at the end (default true). */
  summary?: boolean;
  /** Where lines go (default stderr). */
  write?: (line: string) => void;
  /** Force spinners on or off (default: on only when stderr is a terminal and CI is unset). */
  interactive?: boolean;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * What a step listener hears ({@link onStepEvent}; the browser view of `--ui` listens): a step
 * started, reported progress or a note, or ended — told right after the terminal line it matches.
 * `id` is unique in the process; `parent` is the enclosing group's; `t` is on the runner's clock.
 */
export type StepEvent =
  | {
    kind: "start";
    id: string;
    parent?: string;
    name: string;
    depth: number;
    group: boolean;
    t: number;
  }
  | { kind: "progress" | "note"; id: string; message: string; t: number }
  | {
    kind: "end";
    id: string;
    ok: boolean;
    ms: number;
    detail?: string;
    error?: string;
    t: number;
  };

const stepListeners = new Set<(e: StepEvent) => void>();
let stepIds = 0;

/** Hears every step of every `runSteps` in this process; returns the function that stops it. */
export function onStepEvent(listener: (e: StepEvent) => void): () => void {
  stepListeners.add(listener);
  return () => void stepListeners.delete(listener);
}

function tell(e: StepEvent): void {
  for (const l of stepListeners) {
    try {
      l(e);
    } catch { /* a listener cannot break the steps */ }
  }
}

/** Minimum time between two plain (not a terminal) progress lines of a step. */
const PLAIN_PROGRESS_EVERY_MS = 5_000;

/** Groups steps to run concurrently. */
export function parallel(name: string, steps: readonly (Step | StepGroup)[]): StepGroup {
  return { name, parallel: steps };
}

/** Groups steps to run one after the other under one name (e.g. a track inside a parallel group). */
export function sequence(
  name: string,
  steps:
    | readonly (Step | StepGroup)[]
    | (() => readonly (Step | StepGroup)[] | Promise<readonly (Step | StepGroup)[]>),
): StepGroup {
  return { name, sequence: steps };
}

/** A step from a name and a function. */
export function step(name: string, run: (ctx: StepContext) => Promise<string | void>): Step {
  return { name, run };
}

/**
 * Runs the steps in order (groups concurrently), printing status lines; returns the timeline.
 * On a failure, the remaining steps are skipped, the timeline is printed and the error rethrown.
 */
export async function runSteps(
  steps: readonly (Step | StepGroup)[],
  options: RunOptions = {},
): Promise<StepRecord[]> {
  const write = options.write ?? ((line: string) => log.info(line));
  const interactive = options.interactive ?? isInteractive();
  const now = options.now ?? (() => performance.now());
  const records: StepRecord[] = [];
  const started = now();

  async function runOne(
    s: Step | StepGroup,
    depth: number,
    siblings: StepRecord[],
    parent?: string,
  ): Promise<void> {
    const id = `s${++stepIds}`;
    const indent = "  ".repeat(depth);
    const t0 = now();
    const record: StepRecord = { name: s.name, ok: false, ms: 0, startMs: t0, depth, children: [] };
    siblings.push(record);
    let bar: ProgressBar | undefined;
    let lastPlain = -Infinity;
    let lastMessage = "";
    const group = "parallel" in s || "sequence" in s;
    tell({ kind: "start", id, ...(parent ? { parent } : {}), name: s.name, depth, group, t: t0 });
    if (interactive && !group) {
      bar = await spinner(`${indent}${s.name}`);
    } else {
      write(`${indent}• ${s.name} …`);
    }
    const ctx: StepContext = {
      progress(message) {
        if (message !== lastMessage) tell({ kind: "progress", id, message, t: now() });
        if (bar) {
          bar.message(message);
        } else {
          const t = now();
          if (message !== lastMessage && t - lastPlain >= PLAIN_PROGRESS_EVERY_MS) {
            write(`${indent}  … ${message}`);
            lastPlain = t;
          }
        }
        lastMessage = message;
      },
      note(message) {
        write(`${indent}  ${message}`);
        tell({ kind: "note", id, message, t: now() });
      },
    };
    /** The step's end, in one place: its line, then the event. */
    const end = (failure?: { error: unknown; report: boolean }) => {
      record.ms = now() - t0;
      bar?.finish();
      const time = `(${formatDuration(record.ms)})`;
      if (!failure) {
        const detail = record.detail ? ` — ${record.detail}` : "";
        write(`${indent}✓ ${s.name} ${time}${detail}`);
      } else {
        const why = failure.report ? `: ${errorMessage(failure.error)}` : "";
        write(`${indent}✗ ${s.name} ${time}${why}`);
      }
      tell({
        kind: "end",
        id,
        ok: !failure,
        ms: record.ms,
        ...(!failure && record.detail ? { detail: record.detail } : {}),
        ...(failure?.report ? { error: errorMessage(failure.error) } : {}),
        t: now(),
      });
    };
    try {
      let detail: string | void = undefined;
      if ("parallel" in s) {
        const results = await Promise.allSettled(
          s.parallel.map((c) => runOne(c, depth + 1, record.children, id)),
        );
        const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
        if (failed) throw failed.reason;
      } else if ("sequence" in s) {
        const children = typeof s.sequence === "function" ? await s.sequence() : s.sequence;
        for (const c of children) await runOne(c, depth + 1, record.children, id);
      } else {
        detail = await s.run(ctx);
      }
      record.ok = true;
      if (detail) record.detail = detail;
      end();
    } catch (err) {
      // A child's failure was reported on its own line; the group's line only marks it.
      const reported = err instanceof StepFailed;
      end({ error: reported ? err.original : err, report: !reported });
      throw reported ? err : new StepFailed(err);
    }
  }

  try {
    for (const s of steps) await runOne(s, 0, records);
  } catch (err) {
    if (options.summary !== false) write(timeline(records, now() - started));
    throw err instanceof StepFailed ? err.original : err;
  }
  if (options.summary !== false) write(timeline(records, now() - started));
  return records;
}

/** Wraps a step's error once it has been reported, so enclosing groups do not repeat it. */
class StepFailed extends Error {
  constructor(readonly original: unknown) {
    super(errorMessage(original));
  }
}

/** Every record, depth first, children in their declared order. */
export function flatten(records: readonly StepRecord[]): StepRecord[] {
  return records.flatMap((r) => [r, ...flatten(r.children)]);
}

/** The timeline printed after the steps: every step, its status, time and detail. */
export function timeline(tree: readonly StepRecord[], totalMs: number): string {
  const records = flatten(tree);
  const width = Math.max(...records.map((r) => r.name.length + r.depth * 2), 10);
  const lines = [`Timeline (total ${formatDuration(totalMs)}):`];
  for (const r of records) {
    const name = `${"  ".repeat(r.depth)}${r.name}`.padEnd(width);
    const time = formatDuration(r.ms).padStart(7);
    lines.push(`  ${r.ok ? "✓" : "✗"} ${name}  ${time}${r.detail ? `  ${r.detail}` : ""}`);
  }
  return lines.join("\n");
}
