/**
 * An image's recipe file, `images/<name>/image.json`: what goes into the image beyond the catalog's
 * `recipe` (packages, binaries), and how it runs.
 *
 * ```json
 * {
 *   "description": "what the image is for",
 *   "users": [{ "name": "boinc", "uid": 10001, "gid": 10001, "home": "/var/lib/boinc-client" }],
 *   "files": [{ "from": "nginx.conf", "to": "/etc/nginx/nginx.conf", "mode": "0644" }],
 *   "dirs": [{ "path": "/prometheus", "mode": "0775", "owner": "65534:65534" }],
 *   "binaries": { "prometheus": "/bin/prometheus" },
 *   "compile": [{ "from": "pause.c", "to": "/pause" }],
 *   "capabilities": { "/coredns": "cap_net_bind_service=+ep" },
 *   "config": { "User": "65534:65534", "Entrypoint": ["/bin/prometheus"], "ExposedPorts": ["9090/tcp"] }
 * }
 * ```
 *
 * `users` (Debian images) are created with fixed ids before the packages are installed, so a
 * package's maintainer script finds them and keeps them. `files` come from `images/<name>/`;
 * `binaries` (Go images) from the binary cache; `compile` (static C images) is built with
 * `gcc -static`. A numeric `User` is also recorded as the labels `io.cncfdemo.image.uid` / `.gid`.
 */
import { createHash } from "node:crypto";
import { CncfdemoError } from "../errors.ts";
import type { ImageRuntimeConfig } from "./oci_archive.ts";

export const IMAGES_DIR = new URL("../../images/", import.meta.url).pathname;

export interface RecipeUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface RecipeFile {
  from: string;
  to: string;
  mode: number;
  /** `uid:gid`, numeric. */
  owner: [number, number];
}

export interface RecipeDir {
  path: string;
  mode: number;
  owner: [number, number];
}

/** A parsed, validated `images/<name>/image.json`. */
export interface ImageRecipe {
  name: string;
  dir: string;
  description: string;
  users: RecipeUser[];
  files: RecipeFile[];
  dirs: RecipeDir[];
  binaries: Record<string, string>;
  compile: { from: string; to: string }[];
  capabilities: Record<string, string>;
  config: ImageRuntimeConfig;
  /** sha256 (hex) over every file of images/<name>/ (names, modes, contents). */
  filesHash: string;
}

const KEYS = [
  "description",
  "users",
  "files",
  "dirs",
  "binaries",
  "compile",
  "capabilities",
  "config",
];
const CONFIG_KEYS = [
  "User",
  "ExposedPorts",
  "Env",
  "Entrypoint",
  "Cmd",
  "WorkingDir",
  "Labels",
  "StopSignal",
];

class Invalid extends Error {}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

function absPath(v: unknown, what: string): string {
  if (typeof v !== "string" || !v.startsWith("/") || v.split("/").includes("..")) {
    throw new Invalid(`${what} must be an absolute path without "..", got ${JSON.stringify(v)}`);
  }
  return v;
}

function mode(v: unknown, def: number, what: string): number {
  if (v === undefined) return def;
  if (typeof v !== "string" || !/^0?[0-7]{3,4}$/.test(v)) {
    throw new Invalid(`${what} must be an octal mode like "0644", got ${JSON.stringify(v)}`);
  }
  return parseInt(v, 8);
}

function owner(v: unknown, what: string): [number, number] {
  if (v === undefined) return [0, 0];
  const m = typeof v === "string" ? /^(\d+):(\d+)$/.exec(v) : null;
  if (!m) throw new Invalid(`${what} must be numeric "uid:gid", got ${JSON.stringify(v)}`);
  return [Number(m[1]), Number(m[2])];
}

function objects(v: unknown, what: string): Record<string, unknown>[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => x && typeof x === "object" && !Array.isArray(x))) {
    throw new Invalid(`${what} must be a list of objects`);
  }
  return v as Record<string, unknown>[];
}

function parseConfig(v: unknown): ImageRuntimeConfig {
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new Invalid(`"config" is required`);
  const c = v as Record<string, unknown>;
  for (const k of Object.keys(c)) {
    if (!CONFIG_KEYS.includes(k)) {
      throw new Invalid(`unknown config key "${k}" (known: ${CONFIG_KEYS.join(", ")})`);
    }
  }
  const out: ImageRuntimeConfig = {};
  for (const k of ["Env", "Entrypoint", "Cmd"] as const) {
    if (c[k] === undefined) continue;
    if (!isStringArray(c[k])) throw new Invalid(`config.${k} must be a list of strings`);
    out[k] = c[k] as string[];
  }
  for (const k of ["User", "WorkingDir", "StopSignal"] as const) {
    if (c[k] === undefined) continue;
    if (typeof c[k] !== "string") throw new Invalid(`config.${k} must be a string`);
    out[k] = c[k] as string;
  }
  if (c["ExposedPorts"] !== undefined) {
    const ports = c["ExposedPorts"];
    if (!isStringArray(ports) || !ports.every((p) => /^\d+\/(tcp|udp|sctp)$/.test(p))) {
      throw new Invalid(`config.ExposedPorts must be a list like ["8080/tcp"]`);
    }
    out.ExposedPorts = Object.fromEntries(ports.map((p) => [p, {}]));
  }
  const labels: Record<string, string> = {};
  if (c["Labels"] !== undefined) {
    const l = c["Labels"];
    if (!l || typeof l !== "object" || Array.isArray(l)) {
      throw new Invalid(`config.Labels must be an object of strings`);
    }
    for (const [k, val] of Object.entries(l)) {
      if (typeof val !== "string") throw new Invalid(`config.Labels.${k} must be a string`);
      labels[k] = val;
    }
  }
  const user = out.User !== undefined ? /^(\d+)(?::(\d+))?$/.exec(out.User) : null;
  if (user) {
    labels["io.cncfdemo.image.uid"] = user[1]!;
    labels["io.cncfdemo.image.gid"] = user[2] ?? user[1]!;
  }
  if (Object.keys(labels).length) out.Labels = labels;
  if (!out.Env?.some((e) => e.startsWith("PATH="))) {
    out.Env = [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      ...out.Env ?? [],
    ];
  }
  return out;
}

/** Parses the text of an image.json (no file checks). Throws Invalid with what is wrong. */
function parseRecipe(text: string): Omit<ImageRecipe, "name" | "dir" | "filesHash"> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Invalid(`not valid JSON (${(err as Error).message})`);
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new Invalid("not a JSON object");
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (!KEYS.includes(k)) throw new Invalid(`unknown key "${k}" (known: ${KEYS.join(", ")})`);
  }
  const users = objects(r["users"], `"users"`).map((u, i) => {
    const what = `users[${i}]`;
    if (typeof u["name"] !== "string" || !/^[a-z_][a-z0-9_-]*$/.test(u["name"])) {
      throw new Invalid(`${what}.name must be a user name`);
    }
    for (const k of ["uid", "gid"]) {
      if (!Number.isInteger(u[k]) || (u[k] as number) < 1 || (u[k] as number) > 65535) {
        throw new Invalid(`${what}.${k} must be a whole number from 1 to 65535`);
      }
    }
    return {
      name: u["name"],
      uid: u["uid"] as number,
      gid: u["gid"] as number,
      home: absPath(u["home"], `${what}.home`),
    };
  });
  const files = objects(r["files"], `"files"`).map((f, i) => {
    const what = `files[${i}]`;
    if (typeof f["from"] !== "string" || f["from"].includes("..") || f["from"].startsWith("/")) {
      throw new Invalid(`${what}.from must be a file name in the image's directory`);
    }
    return {
      from: f["from"],
      to: absPath(f["to"], `${what}.to`),
      mode: mode(f["mode"], 0o644, `${what}.mode`),
      owner: owner(f["owner"], `${what}.owner`),
    };
  });
  const dirs = objects(r["dirs"], `"dirs"`).map((d, i) => ({
    path: absPath(d["path"], `dirs[${i}].path`),
    mode: mode(d["mode"], 0o755, `dirs[${i}].mode`),
    owner: owner(d["owner"], `dirs[${i}].owner`),
  }));
  const binaries: Record<string, string> = {};
  if (r["binaries"] !== undefined) {
    if (!r["binaries"] || typeof r["binaries"] !== "object" || Array.isArray(r["binaries"])) {
      throw new Invalid(`"binaries" must map binary names to paths in the image`);
    }
    for (const [k, v] of Object.entries(r["binaries"])) binaries[k] = absPath(v, `binaries.${k}`);
  }
  const compile = objects(r["compile"], `"compile"`).map((c, i) => {
    if (typeof c["from"] !== "string" || !/^[A-Za-z0-9_.-]+\.c$/.test(c["from"])) {
      throw new Invalid(`compile[${i}].from must be a .c file in the image's directory`);
    }
    return { from: c["from"], to: absPath(c["to"], `compile[${i}].to`) };
  });
  const capabilities: Record<string, string> = {};
  if (r["capabilities"] !== undefined) {
    const caps = r["capabilities"];
    if (!caps || typeof caps !== "object" || Array.isArray(caps)) {
      throw new Invalid(`"capabilities" must map paths to setcap specs`);
    }
    for (const [k, v] of Object.entries(caps)) {
      absPath(k, `capabilities key`);
      if (typeof v !== "string" || !/^cap_[a-z_]+(,cap_[a-z_]+)*[=+-]+[eip]+$/.test(v)) {
        throw new Invalid(`capabilities.${k} must be like "cap_net_bind_service=+ep"`);
      }
      capabilities[k] = v;
    }
  }
  return {
    description: typeof r["description"] === "string" ? r["description"] : "",
    users,
    files,
    dirs,
    binaries,
    compile,
    capabilities,
    config: parseConfig(r["config"]),
  };
}

/** sha256 over the names, executable bits and contents of every file under `dir`. */
export async function hashDirectory(dir: string): Promise<string> {
  const hash = createHash("sha256");
  const files: string[] = [];
  async function walk(rel: string): Promise<void> {
    for await (const e of Deno.readDir(`${dir}/${rel}`)) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(path);
      else files.push(path);
    }
  }
  await walk("");
  for (const f of files.sort()) {
    const st = await Deno.lstat(`${dir}/${f}`);
    const data = st.isSymlink
      ? new TextEncoder().encode(await Deno.readLink(`${dir}/${f}`))
      : await Deno.readFile(`${dir}/${f}`);
    hash.update(`${f}\0${(st.mode ?? 0) & 0o111 ? "x" : "-"}\0${data.length}\0`);
    hash.update(data);
  }
  return hash.digest("hex");
}

/**
 * Loads and checks `images/<name>/image.json` and the files it lists. Any problem is one line:
 * `Cannot build image wrk: images/wrk/bench.lua is missing (listed in images/wrk/image.json)`.
 */
export async function loadRecipe(name: string, imagesDir = IMAGES_DIR): Promise<ImageRecipe> {
  const dir = `${imagesDir.replace(/\/$/, "")}/${name}`;
  const shown = `images/${name}`;
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/image.json`);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new CncfdemoError(
        `Cannot build image ${name}: ${shown}/image.json is missing (every image with a recipe has one)`,
      );
    }
    throw err;
  }
  let parsed: Omit<ImageRecipe, "name" | "dir" | "filesHash">;
  try {
    parsed = parseRecipe(text);
  } catch (err) {
    if (err instanceof Invalid) {
      throw new CncfdemoError(`Cannot build image ${name}: ${shown}/image.json: ${err.message}`);
    }
    throw err;
  }
  for (const from of [...parsed.files.map((f) => f.from), ...parsed.compile.map((c) => c.from)]) {
    try {
      const st = await Deno.stat(`${dir}/${from}`);
      if (!st.isFile) throw new Deno.errors.NotFound();
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new CncfdemoError(
          `Cannot build image ${name}: ${shown}/${from} is missing (listed in ${shown}/image.json)`,
        );
      }
      throw err;
    }
  }
  return { name, dir, ...parsed, filesHash: await hashDirectory(dir) };
}
