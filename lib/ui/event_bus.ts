/**
 * Every event of one task, kept in order, and the streams that follow them: a subscriber gets the
 * events after the one it has seen (all of them for a new page, the rest after a reconnect), then
 * each new one as it comes — so a page opened or reloaded mid-run catches up with everything.
 */
import type { Numbered, UiEvent } from "./events.ts";

export class EventBus {
  readonly #events: Numbered[] = [];
  readonly #subscribers = new Set<(e: Numbered) => void>();

  /** Stores the event and tells every subscriber. */
  emit(e: UiEvent): Numbered {
    const n = { ...e, seq: this.#events.length + 1 } as Numbered;
    this.#events.push(n);
    for (const s of this.#subscribers) s(n);
    return n;
  }

  /** Every event so far. */
  get events(): readonly Numbered[] {
    return this.#events;
  }

  /**
   * Calls `fn` with the events after `afterSeq` (0: all), then with each new one; returns the
   * function that stops it. Nothing is missed or repeated between the two.
   */
  subscribe(fn: (e: Numbered) => void, afterSeq = 0): () => void {
    // Up to the last event, including any emitted while these are handed over.
    for (let i = Math.max(afterSeq, 0); i < this.#events.length; i++) fn(this.#events[i]!);
    this.#subscribers.add(fn);
    return () => void this.#subscribers.delete(fn);
  }
}
