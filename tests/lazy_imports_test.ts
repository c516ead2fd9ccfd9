/**
 * `--help` and usage errors answer before heavy modules load: the static import graph of every
 * task (what loads before `main` runs; `await import()` is where the heavy part starts) reaches no
 * heavy npm package, the library never imports a task, and every task answers `--help` (exit 0)
 * and an unknown flag (exit 2, one line).
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;

/** npm packages that take tens to hundreds of milliseconds to load. */
const HEAVY = [
  "@kubernetes/client-node",
  "@aws-sdk/",
  "playwright-core",
  "nunjucks",
  "yaml",
  "diff",
  "chart.js",
  "fflate",
  "pngjs",
  "dax-sh",
];

interface Graph {
  roots: string[];
  modules: {
    specifier: string;
    dependencies?: { specifier: string; code?: { specifier: string }; isDynamic?: boolean }[];
  }[];
  redirects: Record<string, string>;
}

async function tasks(): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(`${ROOT}tasks`)) {
    if (e.isFile && e.name.endsWith(".ts")) names.push(e.name);
  }
  return names.sort();
}

/** The modules a task loads before its code runs, each with the chain that brought it in. */
async function staticallyLoaded(file: string): Promise<Map<string, string[]>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", `${ROOT}tasks/${file}`],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const graph: Graph = JSON.parse(new TextDecoder().decode(out.stdout));
  const byId = new Map(graph.modules.map((m) => [m.specifier, m]));
  const resolve = (s: string) => graph.redirects[s] ?? s;
  const seen = new Map<string, string[]>();
  const queue: [string, string[]][] = graph.roots.map((r) => [resolve(r), [r]]);
  while (queue.length) {
    const [spec, chain] = queue.shift()!;
    if (seen.has(spec)) continue;
    seen.set(spec, chain);
    for (const d of byId.get(spec)?.dependencies ?? []) {
      if (!d.code || d.isDynamic) continue;
      const next = resolve(d.code.specifier);
      queue.push([next, [...chain, next]]);
    }
  }
  return seen;
}

Deno.test("lazy imports: no task loads a heavy npm package before parsing its flags", async () => {
  const problems: string[] = [];
  for (const file of await tasks()) {
    for (const [spec, chain] of await staticallyLoaded(file)) {
      if (HEAVY.some((h) => spec.includes(`npm:${h}`) || spec.includes(`npm:/${h}`))) {
        problems.push(`${file}: ${chain.map((s) => s.replace(`file://${ROOT}`, "")).join(" → ")}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("lazy imports: the library never imports a task", async () => {
  const offenders: string[] = [];
  async function walk(dir: string): Promise<void> {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (e.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(path);
        for (const m of text.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)) {
          if (/(^|\/)tasks\//.test(m[1]!)) offenders.push(`${path.slice(ROOT.length)}: ${m[1]}`);
        }
      }
    }
  }
  await walk(`${ROOT}lib`);
  assert.deepEqual(offenders, []);
});

Deno.test("lazy imports: every task answers --help and an unknown flag", async () => {
  for (const file of await tasks()) {
    const run = async (arg: string) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", `${ROOT}tasks/${file}`, arg],
        cwd: ROOT,
        env: { CI: "1", NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = (b: Uint8Array) => new TextDecoder().decode(b);
      return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
    };
    const help = await run("--help");
    assert.equal(help.code, 0, `${file} --help: ${help.stderr}`);
    assert.match(help.stdout + help.stderr, /Usage: deno task /, `${file} --help`);
    const bad = await run("--no-such-flag");
    assert.equal(bad.code, 2, `${file} --no-such-flag: ${bad.stderr}`);
    assert.equal(bad.stderr.trim().split("\n").length, 1, `${file}: ${bad.stderr}`);
    assert.match(bad.stderr, /no-such-flag/);
  }
});
