import assert from "node:assert/strict";
import { startNginx } from "../../tests/support/servers.ts";
import { mergeSecond, type SecondSample } from "./merge_seconds.ts";
import { runSeries } from "./series_runner.ts";

Deno.test("two generators against nginx: a sample per second, live, equal to the merge of the generators'", async () => {
  const nginx = await startNginx(1);
  try {
    const live: SecondSample[] = [];
    const run = await runSeries(
      {
        url: nginx.url,
        durationS: 3,
        connections: 4,
        threads: 1,
        parallelism: 2,
        requestTimeoutS: 2,
      },
      { onSecond: (s) => live.push(s) },
    );
    assert.equal(run.model, "closed");
    assert.deepEqual(live.map((s) => s.second), [0, 1, 2]);
    assert.deepEqual(live, run.seconds);
    for (const s of run.seconds) {
      const parts = Object.values(run.generators).map((g) => g.find((x) => x.second === s.second)!);
      assert.deepEqual(s, mergeSecond(parts));
      assert.ok(s.ok > 0 && s.errors.total === 0, `second ${s.second}: ${s.ok} ok`);
      assert.ok(s.latency_ms.p99! >= s.latency_ms.p50!);
      assert.equal(s.t_unix_ms, run.startUnixMs + 1_000 * s.second);
    }
  } finally {
    await nginx.stop();
  }
});

/**
 * A server that answers at once, except that it holds every request during [from, to) ms after
 * the first request it got (not after it started: a slow start of the run must not move the stall
 * out of the run).
 */
function stallingServer(fromMs: number, toMs: number) {
  let t0: number | undefined;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async () => {
    t0 ??= performance.now();
    const now = performance.now() - t0;
    if (now >= fromMs && now < toMs) await new Promise((r) => setTimeout(r, toMs - now));
    return new Response("ok");
  });
  return { url: `http://127.0.0.1:${server.addr.port}/`, server };
}

Deno.test("open model: a stall shows as latency, not as fewer requests; closed model sends fewer", async () => {
  const rate = 200;
  // The stall: 600 ms, from 1.2 s after the first request.
  const open = stallingServer(1_200, 1_800);
  let openRun;
  try {
    openRun = await runSeries({
      url: open.url,
      durationS: 4,
      connections: 8,
      parallelism: 1,
      rate,
      requestTimeoutS: 2,
    });
  } finally {
    await open.server.shutdown();
  }
  const total = openRun.seconds.reduce((n, s) => n + s.responses, 0);
  // Every due request is sent and answered: the count stays at the rate (a few in flight at the end).
  assert.ok(total >= rate * 4 * 0.95, `open model: ${total} responses, expected about ${rate * 4}`);
  const worst = Math.max(...openRun.seconds.map((s) => s.latency_ms.max ?? 0));
  assert.ok(worst >= 400, `open model: the stall shows as latency (max ${worst} ms)`);

  const closed = stallingServer(1_200, 1_800);
  let closedRun;
  try {
    closedRun = await runSeries({
      url: closed.url,
      durationS: 4,
      connections: 1,
      parallelism: 1,
      requestTimeoutS: 2,
    });
  } finally {
    await closed.server.shutdown();
  }
  // One connection waits out the stall with one request: its latency is one sample, the others go missing.
  const counts = closedRun.seconds.map((s) => s.responses);
  const stalled = closedRun.seconds.find((s) => (s.latency_ms.max ?? 0) >= 400);
  assert.ok(stalled, `closed model: the held request is seen (${JSON.stringify(counts)})`);
  const [low, high] = [Math.min(...counts), Math.max(...counts)];
  // 600 ms without answers: the second that holds all of it keeps at most 40 % of its responses;
  // split over two seconds, one of them keeps at most 70 %.
  assert.ok(low < high * 0.8, `closed model: fewer responses in the stalled second (${counts})`);
});

Deno.test("open model with a step: the rate each second follows the schedule", async () => {
  const nginx = await startNginx(1);
  try {
    const run = await runSeries({
      url: nginx.url,
      durationS: 4,
      connections: 8,
      parallelism: 2,
      rate: 100,
      step: { atS: 2, rate: 300 },
      requestTimeoutS: 2,
    });
    assert.equal(run.model, "open");
    const ok = run.seconds.map((s) => s.ok);
    // ±10 %: a request due at the very end of a second may complete in the next one.
    for (const [i, want] of [[0, 100], [1, 100], [2, 300], [3, 300]] as const) {
      assert.ok(Math.abs(ok[i]! - want) <= want * 0.1, `second ${i}: ${ok[i]} ok, want ~${want}`);
    }
  } finally {
    await nginx.stop();
  }
});
