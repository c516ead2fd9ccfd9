/**
 * Editing the user's kubeconfig the way kind does: merge a named cluster/user/context (and make
 * it current), or remove them again, leaving every other entry as it was. Writes are atomic and
 * the file stays private (0600).
 */
import { parse, stringify } from "yaml";
import { UsageError } from "../errors.ts";
import { writeFileAtomic } from "../paths.ts";

interface Named {
  name: string;
  [key: string]: unknown;
}

interface KubeconfigDoc {
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

async function readDoc(path: string): Promise<KubeconfigDoc> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return {};
    if (err instanceof Deno.errors.IsADirectory) {
      throw new UsageError(`Cannot read kubeconfig ${path}: it is a directory, not a file`);
    }
    if (err instanceof Deno.errors.PermissionDenied) {
      throw new UsageError(`Cannot read kubeconfig ${path}: permission denied`);
    }
    throw new UsageError(
      `Cannot read kubeconfig ${path}: ${err instanceof Error ? err.message : err}`,
    );
  }
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
  return doc as KubeconfigDoc;
}

function upsert(list: Named[] | null | undefined, item: Named): Named[] {
  const out = (list ?? []).filter((x) => x.name !== item.name);
  out.push(item);
  return out;
}

/** Adds or replaces `entry` (cluster, user and context of the same name); optionally makes it current. */
export async function mergeKubeEntry(
  path: string,
  entry: KubeEntry,
  makeCurrent = true,
): Promise<void> {
  const doc = await readDoc(path);
  doc.apiVersion ??= "v1";
  doc.kind ??= "Config";
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
  doc.clusters = upsert(doc.clusters, { name: entry.name, cluster });
  doc.users = upsert(doc.users, { name: entry.name, user });
  doc.contexts = upsert(doc.contexts, { name: entry.name, context });
  if (makeCurrent) doc["current-context"] = entry.name;
  await writeFileAtomic(path, stringify(doc));
}

/**
 * Removes the cluster, user and context named `name`; clears current-context when it pointed
 * there. Returns whether anything was removed. A missing file is not an error.
 */
export async function removeKubeEntry(path: string, name: string): Promise<boolean> {
  const doc = await readDoc(path);
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
  if (removed) await writeFileAtomic(path, stringify(doc));
  return removed;
}

/** The context names in a kubeconfig file (empty when the file does not exist). */
export async function kubeContexts(path: string): Promise<string[]> {
  const doc = await readDoc(path);
  return (doc.contexts ?? []).map((c) => c.name);
}

/**
 * Checks, before anything is created, that the kubeconfig at `path` can be read, parsed and
 * written (a missing file is fine: it will be created).
 */
export async function assertKubeconfigWritable(path: string): Promise<void> {
  await readDoc(path);
  try {
    const f = await Deno.open(path, { append: true, create: false });
    f.close();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw new UsageError(
      `Cannot write kubeconfig ${path}: ${err instanceof Error ? err.message : err}`,
    );
  }
}
