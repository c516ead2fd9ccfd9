/**
 * What the browser view (`--ui`, `deno task ui`) is told, as Server-Sent Events: the task, its steps
 * (lib/steps.ts), the rollout's objects per wave, per-second series with marked events, the final
 * summary and the end. `t` is in ms on the process's clock (performance.now(): since it started).
 */
import type { StepEvent } from "../steps.ts";

/** An object of a rollout wave and how far it is. */
export interface WaveObject {
  id: string;
  status: string;
  ready: boolean;
}

export type UiEvent =
  | { type: "task"; command: string; args: string[]; started_at: string; pid: number }
  | { type: "step"; step: StepEvent }
  | { type: "wave"; wave: string; objects: WaveObject[] }
  | ({ type: "object"; wave: string } & WaveObject)
  /** One sample of a series (e.g. `throughput` {requests_s}, `latency` {p50_ms, p99_ms}). */
  | { type: "series"; t: number; name: string; values: Record<string, number | null> }
  /** Something that happened (pod killed, replica added), drawn on every chart. */
  | { type: "mark"; t: number; label: string }
  | { type: "summary"; lines: string[] }
  | { type: "end"; ok: boolean; error?: string; t: number };

/** An event as stored and sent: numbered in order from 1. */
export type Numbered = UiEvent & { seq: number };
