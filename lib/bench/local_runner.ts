/**
 * Local mode: `parallelism` wrk processes on this machine, each running images/wrk/bench.lua (the
 * file the image ships), each writing its JSON and Prometheus results to a temporary directory.
 */
import { fileURLToPath } from "node:url";
import { CncfdemoError } from "../errors.ts";
import { lastLines, run } from "../run_program.ts";
import { parseWrkResult } from "./wrk_result.ts";
import type { GeneratorResult } from "./wrk_result.ts";

/** The Lua script shipped in the wrk image. */
export const WRK_SCRIPT = fileURLToPath(new URL("../../images/wrk/bench.lua", import.meta.url));

export const WRK_INSTALL_HINT = "install Debian's wrk package (apt-get install wrk)";

export interface LocalRunOptions {
  runId: string;
  url: string;
  durationS: number;
  connections: number;
  threads: number;
  parallelism: number;
  requestTimeoutS: number;
  statusCounts: boolean;
  /** The wrk program (default `wrk` on PATH). */
  wrk?: string;
  /** Called with wrk's own output lines (for --verbose). */
  onLine?: (line: string) => void;
}

export interface LocalGenerator {
  result: GeneratorResult;
  /** The Prometheus text the script wrote, for the Pushgateway. */
  prometheus: string;
}

/** Generator names: g0, g1, … */
export function generatorNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `g${i}`);
}

/** wrk's command line for one generator. */
export function wrkArgs(o: LocalRunOptions): string[] {
  return [
    "--threads",
    String(o.threads),
    "--connections",
    String(o.connections),
    "--duration",
    `${o.durationS}s`,
    "--timeout",
    `${o.requestTimeoutS}s`,
    "--script",
    WRK_SCRIPT,
    o.url,
  ];
}

/** wrk's version line (`wrk debian/4.1.0-3+b2 [epoll] …`), or null when it cannot be read. */
export async function wrkVersion(wrk = "wrk"): Promise<string | null> {
  try {
    const r = await run(wrk, ["--version"], { allowFailure: true, installHint: WRK_INSTALL_HINT });
    const line = (r.stdout + r.stderr).split("\n").find((l) => l.startsWith("wrk "));
    return line?.replace(/\s+Copyright.*$/, "").trim() ?? null;
  } catch {
    return null;
  }
}

/** Runs the generators side by side and returns their results, in generator order. */
export async function runLocalGenerators(o: LocalRunOptions): Promise<LocalGenerator[]> {
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-wrk-" });
  // One generator failing stops the others: a partial run is no result.
  const stop = new AbortController();
  try {
    return await Promise.all(
      generatorNames(o.parallelism).map(async (g) => {
        try {
          return await runOne(g);
        } catch (err) {
          stop.abort();
          throw err;
        }
      }),
    );
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }

  async function runOne(g: string): Promise<LocalGenerator> {
    const json = `${dir}/${g}.json`;
    const prom = `${dir}/${g}.prom`;
    const r = await run(o.wrk ?? "wrk", wrkArgs(o), {
      env: {
        WRK_RESULT_JSON: json,
        WRK_RESULT_PROM: prom,
        WRK_GENERATOR: g,
        WRK_RUN_ID: o.runId,
        WRK_STATUS_COUNTS: o.statusCounts ? "1" : "0",
      },
      installHint: WRK_INSTALL_HINT,
      signal: stop.signal,
      allowFailure: true,
      ...(o.onLine ? { onLine: (l: string) => o.onLine!(`${g}: ${l}`) } : {}),
    });
    if (r.code !== 0) {
      throw new CncfdemoError(
        `wrk generator ${g} failed: ${
          lastLines(r.stderr) || lastLines(r.stdout) || `exit code ${r.code}`
        }`,
      );
    }
    let text: string;
    let prometheus: string;
    try {
      text = await Deno.readTextFile(json);
      prometheus = await Deno.readTextFile(prom);
    } catch {
      throw new CncfdemoError(
        `wrk generator ${g} wrote no result: is ${WRK_SCRIPT} the cncfdemo script?`,
      );
    }
    return { result: parseWrkResult(text, `generator ${g}`), prometheus };
  }
}
