import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { uiRequest } from "./live_ui.ts";

Deno.test("uiRequest: --ui and --ui-linger from a task's arguments", () => {
  assert.equal(uiRequest(["--time", "5s"]), undefined);
  assert.deepEqual(uiRequest(["--ui"]), {});
  assert.deepEqual(uiRequest(["--ui", "--ui-linger", "30s"]), { lingerMs: 30_000 });
  assert.deepEqual(uiRequest(["--ui-linger=0s", "--ui"]), { lingerMs: 0 });
  // after "--", nothing is a flag of ours
  assert.equal(uiRequest(["--", "--ui"]), undefined);
  assert.throws(
    () => uiRequest(["--ui", "--ui-linger", "5x"]),
    new UsageError('Cannot parse --ui-linger "5x": expected a duration like 30s or 5m'),
  );
  assert.throws(
    () => uiRequest(["--ui-linger", "5s"]),
    new UsageError("--ui-linger goes with --ui: add --ui, or drop --ui-linger"),
  );
});
