/**
 * Kubeconfig files the way kubectl reads them and kind writes them.
 *
 * Reading ({@link readMergedKubeconfig}): `--kubeconfig` alone, else every file of `KUBECONFIG`
 * (missing ones skipped), else `~/.kube/config`; merged as kubectl merges them — the first file
 * that sets `current-context` wins, and of clusters, users and contexts of the same name the first
 * definition wins. Relative file references (`certificate-authority`, `client-certificate`,
 * `client-key`, `tokenFile`, an exec plugin's command with a `/`) resolve against the folder of the
 * file that defines them.
 *
 * Writing ({@link mergeKubeEntry}, {@link removeKubeEntry}): into the file kind chooses
 * ({@link defaultKubeconfigPath}: `--kubeconfig`, else the first existing file of `KUBECONFIG`,
 * else its last one, else `~/.kube/config`), under kind's and client-go's `<file>.lock` lock file,
 * through symlinks (the link's target gets the entry, the link stays), atomically and 0600.
 */
import { parse, stringify } from "yaml";
import { CncfdemoError, errorMessage, UsageError } from "../errors.ts";
import { writeFileAtomic } from "../paths.ts";
import { pollUntil } from "../wait.ts";

interface Named {
  name: string;
  [key: string]: unknown;
}

/** A kubeconfig file as YAML gives it. */
export interface KubeconfigDoc {
  apiVersion?: string;
  kind?: string;
  clusters?: Named[] | null;
  users?: Named[] | null;
  contexts?: Named[] | null;
  "current-context"?: string;
  preferences?: unknown;
  [key: string]: unknown;
}

/** One cluster's entry, ready to merge: server, CA and client credentials inline. */
export interface KubeEntry {
  name: string;
  server: string;
  certificateAuthorityData?: string;
  insecureSkipTlsVerify?: boolean;
  clientCertificateData?: string;
  clientKeyData?: string;
  token?: string;
  namespace?: string;
}

const HINT = 'create a cluster with "deno task bootstrap:sim" or pass --kubeconfig';

function homeConfig(): string {
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  if (!home) throw new CncfdemoError("Cannot find the kubeconfig: set HOME or KUBECONFIG");
  return `${home}/.kube/config`;
}

/** The files considered, as kubectl (and kind) list them: `explicit`, else KUBECONFIG, else ~/.kube/config. */
export function kubeconfigPaths(explicit?: string): string[] {
  if (explicit) return [explicit];
  const env = (Deno.env.get("KUBECONFIG") ?? "").split(":").filter((p) => p !== "");
  const paths = [...new Set(env)];
  return paths.length ? paths : [homeConfig()];
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * The file entries are written to, chosen as kind chooses it: `explicit`; else the first existing
 * file of KUBECONFIG, or its last one when none exists; else ~/.kube/config.
 */
export function defaultKubeconfigPath(explicit?: string): string {
  const paths = kubeconfigPaths(explicit);
  if (paths.length === 1) return paths[0]!;
  return paths.find(isFile) ?? paths[paths.length - 1]!;
}

function readProblem(path: string, err: unknown): UsageError {
  if (err instanceof Deno.errors.NotFound) {
    return new UsageError(`Cannot read kubeconfig ${path}: no such file; ${HINT}`);
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return new UsageError(`Cannot read kubeconfig ${path}: permission denied`);
  }
  if (err instanceof Deno.errors.IsADirectory) {
    return new UsageError(`Cannot read kubeconfig ${path}: it is a directory, not a file`);
  }
  return new UsageError(`Cannot read kubeconfig ${path}: ${errorMessage(err)}`);
}

/** Parses a kubeconfig file's text; `{}` for an empty one. */
export function parseKubeconfig(path: string, text: string): KubeconfigDoc {
  if (text.trim() === "") return {};
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new UsageError(
      `Cannot parse kubeconfig ${path}: ${
        err instanceof Error ? err.message.split("\n")[0] : err
      }; fix or move it`,
    );
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new UsageError(
      `Cannot parse kubeconfig ${path}: it is not a kubeconfig mapping; fix or move it`,
    );
  }
  for (const key of ["clusters", "users", "contexts"] as const) {
    const list = (doc as KubeconfigDoc)[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list) || list.some((x) => typeof x?.name !== "string")) {
      throw new UsageError(
        `Cannot parse kubeconfig ${path}: "${key}" must be a list of entries with a name; fix or move it`,
      );
    }
  }
  return doc as KubeconfigDoc;
}

/** The file's kubeconfig, `{}` when it does not exist; `missingOk: false` makes that an error. */
function readDoc(path: string, missingOk = true): KubeconfigDoc {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    if (missingOk && err instanceof Deno.errors.NotFound) return {};
    throw readProblem(path, err);
  }
  return parseKubeconfig(path, text);
}

function dirOf(path: string): string {
  const abs = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  return abs.slice(0, abs.lastIndexOf("/")) || "/";
}

function resolveIn(dir: string, obj: Record<string, unknown> | undefined, key: string): void {
  const v = obj?.[key];
  if (typeof v === "string" && v !== "" && !v.startsWith("/")) obj![key] = `${dir}/${v}`;
}

/** A deep copy of an entry with its relative file references resolved against `dir` (client-go's rules). */
function resolved(kind: "clusters" | "users" | "contexts", entry: Named, dir: string): Named {
  const copy = structuredClone(entry);
  if (kind === "clusters") {
    resolveIn(dir, copy.cluster as Record<string, unknown>, "certificate-authority");
  } else if (kind === "users") {
    const user = copy.user as Record<string, unknown> | undefined;
    for (const k of ["client-certificate", "client-key", "tokenFile", "token-file"]) {
      resolveIn(dir, user, k);
    }
    const exec = user?.exec as Record<string, unknown> | undefined;
    // client-go resolves an exec command only when it is a path, not a name looked up in PATH.
    if (typeof exec?.command === "string" && exec.command.includes("/")) {
      resolveIn(dir, exec, "command");
    }
  }
  return copy;
}

/** Merges parsed kubeconfig files the way kubectl does (see the module comment). */
export function mergeKubeconfigs(parts: { path: string; doc: KubeconfigDoc }[]): KubeconfigDoc {
  const out = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [] as Named[],
    users: [] as Named[],
    contexts: [] as Named[],
    "current-context": "",
  };
  for (const { path, doc } of parts) {
    const dir = dirOf(path);
    for (const key of ["clusters", "users", "contexts"] as const) {
      const seen = new Set(out[key].map((x) => x.name));
      for (const entry of doc[key] ?? []) {
        if (seen.has(entry.name)) continue;
        seen.add(entry.name);
        out[key].push(resolved(key, entry, dir));
      }
    }
    if (!out["current-context"] && doc["current-context"]) {
      out["current-context"] = doc["current-context"];
    }
  }
  return out;
}

/** The kubeconfig as kubectl sees it, and the files it came from. */
export interface MergedKubeconfig {
  doc: KubeconfigDoc;
  /** The files that exist and were read, in order. */
  files: string[];
  /** Every file considered (for messages). */
  where: string;
}

/**
 * Reads and merges the kubeconfig files (`explicit`, else KUBECONFIG, else ~/.kube/config). Files
 * of a KUBECONFIG list that do not exist are skipped, as kubectl skips them; an explicit file, or
 * a list none of whose files exists, is an error.
 */
export function readMergedKubeconfig(explicit?: string): MergedKubeconfig {
  const paths = kubeconfigPaths(explicit);
  const parts: { path: string; doc: KubeconfigDoc }[] = [];
  for (const path of paths) {
    const missingOk = !explicit && paths.length > 1;
    try {
      Deno.statSync(path);
    } catch (err) {
      if (missingOk && err instanceof Deno.errors.NotFound) continue;
    }
    parts.push({ path, doc: readDoc(path, false) });
  }
  if (parts.length === 0) throw readProblem(paths[0]!, new Deno.errors.NotFound());
  return { doc: mergeKubeconfigs(parts), files: parts.map((p) => p.path), where: paths.join(":") };
}

/** The file a symlink (chain) finally points to; `path` itself when it is no symlink. */
async function linkTarget(path: string): Promise<string> {
  let cur = path;
  for (let i = 0; i < 40; i++) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(cur);
    } catch {
      return cur; // a dangling link's target: created by the write
    }
    if (!info.isSymlink) return cur;
    const to = await Deno.readLink(cur);
    cur = to.startsWith("/") ? to : `${dirOf(cur)}/${to}`;
  }
  throw new CncfdemoError(`Cannot write kubeconfig ${path}: too many levels of symbolic links`);
}

/** How long a writer waits for another's `<file>.lock` before giving up. */
const LOCK_WAIT_MS = 30_000;

/**
 * Runs `fn` holding `<path>.lock`, the lock file kind and client-go take around a kubeconfig's
 * read-modify-write (created exclusively, removed afterwards). Unlike them, a held lock is waited
 * for (up to {@link LOCK_WAIT_MS}) rather than failing at once, so parallel bootstraps all land.
 */
export async function withKubeconfigLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  await Deno.mkdir(dirOf(path), { recursive: true });
  await pollUntil(async () => {
    try {
      (await Deno.open(lock, { createNew: true, write: true, mode: 0o600 })).close();
      return true;
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) return false;
      throw new CncfdemoError(`Cannot lock kubeconfig ${path} (${lock}): ${errorMessage(err)}`);
    }
  }, {
    timeoutMs: LOCK_WAIT_MS,
    intervalMs: 20,
    maxIntervalMs: 200,
    describe: () =>
      `Cannot lock kubeconfig ${path}: ${lock} has existed for ${
        LOCK_WAIT_MS / 1000
      }s; if no kind, kubectl or cncfdemo is writing the kubeconfig, remove ${lock}`,
  });
  try {
    return await fn();
  } finally {
    await Deno.remove(lock).catch(() => {});
  }
}

/** Read-modify-write of one kubeconfig file under its lock, writing through symlinks. */
async function editKubeconfig(
  path: string,
  edit: (doc: KubeconfigDoc) => boolean,
): Promise<boolean> {
  return await withKubeconfigLock(path, async () => {
    const doc = readDoc(path);
    if (!edit(doc)) return false;
    try {
      await writeFileAtomic(await linkTarget(path), stringify(doc));
    } catch (err) {
      if (err instanceof CncfdemoError) throw err;
      throw new CncfdemoError(`Cannot write kubeconfig ${path}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    return true;
  });
}

function upsert(list: Named[] | null | undefined, item: Named): Named[] {
  const out = [...(list ?? [])];
  const at = out.findIndex((x) => x.name === item.name);
  if (at >= 0) out[at] = item;
  else out.push(item);
  return out;
}

/** Adds or replaces `entry` (cluster, user and context of the same name); optionally makes it current. */
export async function mergeKubeEntry(
  path: string,
  entry: KubeEntry,
  makeCurrent = true,
): Promise<void> {
  const cluster: Record<string, unknown> = { server: entry.server };
  if (entry.certificateAuthorityData) {
    cluster["certificate-authority-data"] = entry.certificateAuthorityData;
  }
  if (entry.insecureSkipTlsVerify) cluster["insecure-skip-tls-verify"] = true;
  const user: Record<string, unknown> = {};
  if (entry.clientCertificateData) user["client-certificate-data"] = entry.clientCertificateData;
  if (entry.clientKeyData) user["client-key-data"] = entry.clientKeyData;
  if (entry.token) user.token = entry.token;
  const context: Record<string, unknown> = { cluster: entry.name, user: entry.name };
  if (entry.namespace) context.namespace = entry.namespace;
  await editKubeconfig(path, (doc) => {
    doc.apiVersion ??= "v1";
    doc.kind ??= "Config";
    doc.clusters = upsert(doc.clusters, { name: entry.name, cluster });
    doc.users = upsert(doc.users, { name: entry.name, user });
    doc.contexts = upsert(doc.contexts, { name: entry.name, context });
    if (makeCurrent) doc["current-context"] = entry.name;
    return true;
  });
}

/**
 * Removes the cluster, user and context named `name`; clears current-context when it pointed
 * there. Returns whether anything was removed. A missing file is not an error.
 */
export async function removeKubeEntry(path: string, name: string): Promise<boolean> {
  const names = readDoc(path);
  const present =
    ["clusters", "users", "contexts"].some((k) =>
      (names[k] as Named[] | null | undefined)?.some((x) => x.name === name)
    ) || names["current-context"] === name;
  if (!present) return false; // nothing to do: no lock, no write
  return await editKubeconfig(path, (doc) => {
    let removed = false;
    for (const key of ["clusters", "users", "contexts"] as const) {
      const list = doc[key];
      if (!list) continue;
      const kept = list.filter((x) => x.name !== name);
      if (kept.length !== list.length) removed = true;
      doc[key] = kept;
    }
    if (doc["current-context"] === name) {
      doc["current-context"] = "";
      removed = true;
    }
    return removed;
  });
}

/** The context names in a kubeconfig file (empty when the file does not exist). */
export function kubeContexts(path: string): Promise<string[]> {
  return Promise.resolve((readDoc(path).contexts ?? []).map((c) => c.name));
}

/**
 * Checks, before anything is created, that the kubeconfig at `path` can be read, parsed and
 * written (a missing file is fine: it will be created).
 */
export async function assertKubeconfigWritable(path: string): Promise<void> {
  readDoc(path);
  try {
    const f = await Deno.open(path, { append: true, create: false });
    f.close();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw new UsageError(`Cannot write kubeconfig ${path}: ${errorMessage(err)}`);
  }
}
