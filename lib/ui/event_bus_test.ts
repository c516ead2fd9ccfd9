import assert from "node:assert/strict";
import { EventBus } from "./event_bus.ts";
import type { Numbered } from "./events.ts";

const mark = (label: string) => ({ type: "mark" as const, t: 0, label });

Deno.test("event bus: numbered in order; a new subscriber gets everything, then what comes", () => {
  const bus = new EventBus();
  bus.emit(mark("a"));
  bus.emit(mark("b"));
  const seen: Numbered[] = [];
  const stop = bus.subscribe((e) => seen.push(e));
  bus.emit(mark("c"));
  stop();
  bus.emit(mark("d"));
  assert.deepEqual(seen.map((e) => [e.seq, (e as { label: string }).label]), [
    [1, "a"],
    [2, "b"],
    [3, "c"],
  ]);
  assert.equal(bus.events.length, 4);
});

Deno.test("event bus: a reconnect after event N gets N+1… once each, none missed", () => {
  const bus = new EventBus();
  for (const l of ["a", "b", "c"]) bus.emit(mark(l));
  const seen: number[] = [];
  bus.subscribe((e) => {
    seen.push(e.seq);
    // an event emitted while replaying reaches this subscriber exactly once too
    if (e.seq === 3) bus.emit(mark("e"));
  }, 2);
  bus.emit(mark("f"));
  assert.deepEqual(seen, [3, 4, 5]);
});
