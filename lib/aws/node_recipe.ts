/**
 * The node image recipe (images/node/) as a builder's user data: a shell script that writes every
 * file of `images/node/rootfs/` to the same path under `/`, then runs `images/node/provision.sh`.
 * Gzipped (cloud-init unpacks it) to stay well inside the 16 KiB user-data limit; the SHA-256 of
 * the script names the recipe, so `bake` finds an image already baked from the same recipe.
 */
import { gzipSync } from "fflate";
import { VERSIONS } from "../binaries.ts";
import { CncfdemoError } from "../errors.ts";

export const NODE_RECIPE_DIR = new URL("../../images/node/", import.meta.url).pathname;
/** EC2 accepts at most 16 KiB of user data (before base64). */
export const USER_DATA_LIMIT = 16_384;

export interface NodeRecipe {
  /** The uncompressed script. */
  script: string;
  /** What EC2 gets: the gzipped script. */
  userData: Uint8Array;
  /** First 16 hex digits of the script's SHA-256. */
  hash: string;
  files: string[];
}

async function walk(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  const entries = [];
  for await (const e of Deno.readDir(dir)) entries.push(e);
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const rel = `${prefix}/${e.name}`;
    if (e.isDirectory) out.push(...await walk(`${dir}/${e.name}`, rel));
    else if (e.isFile) out.push(rel);
  }
  return out;
}

/** Builds the builder's user data from images/node/. */
export async function nodeRecipe(dir = NODE_RECIPE_DIR): Promise<NodeRecipe> {
  const rootfs = `${dir}/rootfs`;
  const files = await walk(rootfs);
  const lines = [
    "#!/bin/bash",
    "# cncfdemo node image recipe (images/node/), written by `deno task bake`",
    "set -euo pipefail",
    "# CNCFDEMO_ROOT (tests only): write the files under this directory and do not provision.",
    'R="${CNCFDEMO_ROOT:-}"',
  ];
  for (const path of files) {
    const text = await Deno.readTextFile(`${rootfs}${path}`);
    const mode = ((await Deno.stat(`${rootfs}${path}`)).mode ?? 0o644) & 0o111 ? "0755" : "0644";
    const marker = "CNCFDEMO_RECIPE_EOF";
    if (text.includes(marker)) throw new CncfdemoError(`${path} contains ${marker}`);
    lines.push(
      `install -d -m 0755 "$(dirname "$R${path}")"`,
      `cat >"$R${path}" <<'${marker}'`,
      text.replace(/\n$/, ""),
      marker,
      `chmod ${mode} "$R${path}"`,
    );
  }
  const provision = await Deno.readTextFile(`${dir}/provision.sh`);
  lines.push(
    'install -d -m 0700 "$R/var/lib/cncfdemo-bake"',
    `cat >"$R/var/lib/cncfdemo-bake/provision.sh" <<'CNCFDEMO_RECIPE_EOF'`,
    provision.replace(/\n$/, ""),
    "CNCFDEMO_RECIPE_EOF",
    'if [ -n "$R" ]; then exit 0; fi',
    `KUBERNETES_VERSION=${VERSIONS.kubernetes} bash /var/lib/cncfdemo-bake/provision.sh`,
    "",
  );
  const script = lines.join("\n");
  const userData = gzipSync(new TextEncoder().encode(script), { level: 9, mtime: 0 });
  if (userData.length > USER_DATA_LIMIT) {
    throw new CncfdemoError(
      `The node recipe is ${userData.length} bytes gzipped, over EC2's ${USER_DATA_LIMIT}-byte user-data limit: trim images/node/`,
    );
  }
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(script));
  const hash = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("")
    .slice(0, 16);
  return { script, userData, hash, files };
}
