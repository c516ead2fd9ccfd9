/**
 * `--ui` for a long task: the task's steps, rollout objects, series and summary shown live in the
 * browser. `withUi(command, main)` wraps a task's `main`: with `--ui`, the first step starts a
 * server on 127.0.0.1 (lib/ui/server.ts) and prints its address — token included — once; every
 * step and every `emitUi` event goes to the page; when the task ends the page says so and keeps
 * the final state until Ctrl-C or `--ui-linger` runs out, then the task exits as it would have.
 * Without `--ui` nothing changes. The terminal output stays the same apart from the address and
 * the closing line.
 */
import { errorMessage, HelpShown, UsageError } from "../errors.ts";
import { formatDuration, parseDuration } from "../duration.ts";
import { type Command, flag } from "../flags.ts";
import { log } from "../log.ts";
import { onStepEvent } from "../steps.ts";
import { setUiSink } from "./emit.ts";
import { EventBus } from "./event_bus.ts";
import { startUiServer, type UiServer } from "./server.ts";

/** The flags every long task takes. */
export const uiFlags = {
  ui: flag.boolean(
    "Follow the task live in the browser: a page on 127.0.0.1, its address (with a token) printed",
  ),
  "ui-linger": flag.duration(
    "With --ui: how long the page stays after the task ended (default: until Ctrl-C)",
    { minMs: 0 },
  ),
};

/** `--ui` and `--ui-linger` from a task's arguments (validated the same way as by its flags). */
export function uiRequest(args: readonly string[]): { lingerMs?: number } | undefined {
  let ui = false;
  let linger: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") break;
    if (a === "--ui") ui = true;
    else if (a.startsWith("--ui-linger=")) linger = a.slice("--ui-linger=".length);
    else if (a === "--ui-linger") linger = args[++i] ?? "";
  }
  if (linger === undefined) return ui ? {} : undefined;
  const ms = parseDuration(linger);
  if (ms === undefined || ms < 0) {
    throw new UsageError(
      `Cannot parse --ui-linger "${linger}": expected a duration like 30s or 5m`,
    );
  }
  if (!ui) throw new UsageError("--ui-linger goes with --ui: add --ui, or drop --ui-linger");
  return { lingerMs: ms };
}

/** Waits for Ctrl-C, or `ms` when given. */
export function lingering(ms: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      Deno.removeSignalListener("SIGINT", done);
      resolve();
    };
    const timer = ms === undefined ? undefined : setTimeout(done, ms);
    Deno.addSignalListener("SIGINT", done);
  });
}

/** Wraps a task's main with the browser view, which `--ui` switches on. */
export function withUi(
  command: Command,
  main: (args: string[]) => Promise<number | void>,
): (args: string[]) => Promise<number | void> {
  return async (args) => {
    const want = uiRequest(args);
    if (!want) return await main(args);
    const bus = new EventBus();
    let server: UiServer | undefined;
    const open = () => {
      if (server) return;
      server = startUiServer({ bus, title: `deno task ${command.name}` });
      log.info(`UI: ${server.url}`);
    };
    bus.emit({
      type: "task",
      command: command.name,
      args: args.filter((a, i) =>
        a !== "--ui" && !a.startsWith("--ui-linger") && args[i - 1] !== "--ui-linger"
      ),
      started_at: new Date().toISOString(),
      pid: Deno.pid,
    });
    setUiSink((e) => bus.emit(e));
    const stopSteps = onStepEvent((step) => {
      open();
      bus.emit({ type: "step", step });
    });
    let ok = true;
    let error: string | undefined;
    try {
      return await main(args);
    } catch (err) {
      ok = false;
      error = errorMessage(err);
      if (err instanceof HelpShown || (err instanceof UsageError && !server)) {
        await server?.close();
        server = undefined;
      }
      throw err;
    } finally {
      stopSteps();
      setUiSink(undefined);
      if (server) {
        bus.emit({ type: "end", ok, ...(error ? { error } : {}), t: performance.now() });
        log.info(
          want.lingerMs === 0
            ? "UI: the task has ended; its page closes with it (--ui-linger 0s)"
            : `UI: the task has ended; its page stays open ${
              want.lingerMs === undefined
                ? "until Ctrl-C"
                : `for ${formatDuration(want.lingerMs)} (or until Ctrl-C)`
            }`,
        );
        await lingering(want.lingerMs);
        await server.close();
      }
    }
  };
}
