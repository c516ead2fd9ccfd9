/**
 * The one channel from library code to the browser view: `emitUi` hands an event to the view a
 * task opened with `--ui`, and does nothing otherwise (no view, no cost beyond a check).
 */
import { log } from "../log.ts";
import type { UiEvent } from "./events.ts";

let sink: ((e: UiEvent) => void) | undefined;

/** Where events go (set by the view while it is open; undefined: nowhere). */
export function setUiSink(to: ((e: UiEvent) => void) | undefined): void {
  sink = to;
}

/** Tells the open view, if any. */
export function emitUi(e: UiEvent): void {
  sink?.(e);
}

/** Prints the task's closing lines (as before) and shows them as the view's summary. */
export function summaryLines(...lines: string[]): void {
  for (const l of lines) log.info(l);
  emitUi({ type: "summary", lines });
}

/** Whether a view is open (to skip work done only for it). */
export function uiOpen(): boolean {
  return sink !== undefined;
}
