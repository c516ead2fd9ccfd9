import assert from "node:assert/strict";
import { EventBus } from "./event_bus.ts";
import { ResultsIndex } from "./results_index.ts";
import { startUiServer } from "./server.ts";

/** A raw HTTP/1.1 request (to set any Host); returns the status code. */
async function rawStatus(port: number, path: string, host: string): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
    );
    const buf = new Uint8Array(64);
    const n = await conn.read(buf);
    return Number(
      /^HTTP\/1\.1 (\d{3})/.exec(new TextDecoder().decode(buf.subarray(0, n ?? 0)))?.[1],
    );
  } finally {
    conn.close();
  }
}

async function status(url: string, init?: RequestInit): Promise<number> {
  const res = await fetch(url, init);
  await res.body?.cancel();
  return res.status;
}

Deno.test("ui server: the token on every request, its own Host only, GET only", async () => {
  const bus = new EventBus();
  const server = startUiServer({ bus, title: "t" });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    assert.equal(server.url, `${base}/?token=${server.token}`);
    for (const path of ["/", "/events", "/assets/chart.js", "/api/records", "/x"]) {
      assert.equal(await status(`${base}${path}`), 403, path);
      assert.equal(await status(`${base}${path}?token=${server.token}x`), 403, path);
      assert.equal(await status(`${base}${path}?token=`), 403, path);
    }
    assert.equal(await status(server.url), 200);
    assert.equal(await status(server.url, { method: "POST", body: "{}" }), 405);
    assert.equal(await status(server.url, { method: "DELETE" }), 405);
    // Not served here in live mode: the results directory's data.
    assert.equal(await status(`${base}/api/records?token=${server.token}`), 404);
    const path = `/?token=${server.token}`;
    assert.equal(await rawStatus(server.port, path, `127.0.0.1:${server.port}`), 200);
    assert.equal(await rawStatus(server.port, path, `localhost:${server.port}`), 200);
    assert.equal(await rawStatus(server.port, path, `attacker.example:${server.port}`), 403);
    // The page asks for nothing outside: its Content Security Policy says so.
    const res = await fetch(server.url);
    const csp = res.headers.get("content-security-policy")!;
    await res.body?.cancel();
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'self'/);
    // A second server has another token.
    const other = startUiServer({ bus, title: "t" });
    assert.notEqual(other.token, server.token);
    assert.equal(await status(`http://127.0.0.1:${other.port}/?token=${server.token}`), 403);
    await other.close();
  } finally {
    await server.close();
  }
});

Deno.test("ui server: the event stream replays after Last-Event-ID, follows, and ends on close", async () => {
  const bus = new EventBus();
  for (const label of ["a", "b", "c"]) bus.emit({ type: "mark", t: 1, label });
  const server = startUiServer({ bus, title: "t" });
  let closed = false;
  try {
    const res = await fetch(`http://127.0.0.1:${server.port}/events?token=${server.token}`, {
      headers: { "last-event-id": "1" },
    });
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const until = async (re: RegExp) => {
      while (!re.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${re}: ${text}`);
        text += value;
      }
    };
    await until(/id: 3\n/);
    bus.emit({ type: "mark", t: 2, label: "d" });
    await until(/id: 4\n/);
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    assert.deepEqual(ids, [2, 3, 4]);
    assert.match(text, /^event: hello\ndata: \{"now":[\d.]+\}\n\n/m);
    assert.match(text, /data: \{"type":"mark","t":2,"label":"d","seq":4\}\n\n/);
    await server.close();
    closed = true;
    while (!(await reader.read()).done) { /* drain to the end */ }
  } finally {
    if (!closed) await server.close();
  }
});

Deno.test("ui server: results mode serves the directory's records by name only", async () => {
  const dir = await Deno.makeTempDir();
  const server = startUiServer({ title: "t", results: await ResultsIndex.open(dir) });
  try {
    await Deno.writeTextFile(`${dir}/not-a-record.json`, `{"schema":"other"}`);
    await Deno.writeTextFile(`${dir}/x.html`, `<p>report</p>`);
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${server.port}${path}?token=${server.token}`);
      return {
        status: res.status,
        text: await res.text(),
        csp: res.headers.get("content-security-policy"),
      };
    };
    assert.deepEqual(JSON.parse((await get("/api/records")).text), []);
    assert.equal((await get("/api/record/not-a-record.json")).status, 200);
    assert.equal((await get("/api/record/missing.json")).status, 404);
    assert.equal((await get("/api/record/..%2Fetc%2Fpasswd.json")).status, 404);
    assert.equal((await get("/file/..%2Fx.html")).status, 404);
    const page = await get("/file/x.html");
    assert.equal(page.text, "<p>report</p>");
    // an embedded report runs its own inline code and fetches nothing
    assert.match(page.csp!, /default-src 'none'; script-src 'unsafe-inline'/);
    assert.match((await get("/report")).text, /No report: .*no record/i);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
