/**
 * The DNS Lambda's deployment package: `lambda/dns.ts` bundled for the Node.js runtime with
 * `deno bundle --platform=node` (AWS SDK included, so the function does not depend on the
 * runtime's copy), zipped with a fixed timestamp so the same source always gives the same
 * CodeSha256 and a re-run reports "unchanged".
 */
import { zipSync } from "fflate";
import { CncfdemoError } from "../errors.ts";
import { run } from "../run_program.ts";

export const LAMBDA_SOURCE = new URL("../../lambda/dns.ts", import.meta.url).pathname;
export const LAMBDA_HANDLER = "index.handler";
export const LAMBDA_RUNTIME = "nodejs22.x";

export interface LambdaPackage {
  zip: Uint8Array;
  /** base64 SHA-256 of the zip, as Lambda reports CodeSha256. */
  sha256: string;
  /** The bundled JavaScript. */
  code: string;
}

/** The base64 SHA-256 of bytes (Lambda's CodeSha256 format). */
export async function codeSha256(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes.slice()));
  let bin = "";
  for (const b of d) bin += String.fromCharCode(b);
  return btoa(bin);
}

let cache: Promise<LambdaPackage> | undefined;

async function build(): Promise<LambdaPackage> {
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-lambda-" });
  try {
    const out = `${dir}/index.mjs`;
    await run(Deno.execPath(), [
      "bundle",
      "--quiet",
      "--platform=node",
      "--format=esm",
      "--minify",
      "-o",
      out,
      LAMBDA_SOURCE,
    ], { env: { NO_COLOR: "1" } }).catch((err) => {
      throw new CncfdemoError(`Cannot bundle the DNS Lambda (${LAMBDA_SOURCE}): ${err.message}`);
    });
    const code = await Deno.readTextFile(out);
    const zip = zipSync({
      "index.mjs": [new TextEncoder().encode(code), { mtime: new Date("2020-01-01T00:00:00Z") }],
    }, { level: 9 });
    return { zip, sha256: await codeSha256(zip), code };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Bundles and zips the DNS Lambda (once per process). */
export function lambdaPackage(): Promise<LambdaPackage> {
  cache ??= build().catch((err) => {
    cache = undefined;
    throw err;
  });
  return cache;
}
