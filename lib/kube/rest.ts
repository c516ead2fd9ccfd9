/**
 * The one transport to a Kubernetes API server: every request of every task (apply, get, list,
 * delete, discovery, watches, service-proxy calls) goes through here.
 *
 * Authentication is client-node's, asked per request (`KubeConfig.applyToHTTPSOptions`): the CA,
 * client certificates, bearer tokens, basic auth, token files and exec credential plugins (EKS,
 * GKE, AKS) of the kubeconfig — a plugin's cached credential is reused until it expires. The bytes
 * go through Deno's HTTP client (one pooled client per set of TLS material), so server-side apply
 * sends the object byte for byte with `fieldValidation=Strict` (client-node serialises known kinds
 * through its models, which silently drops unknown fields before the API server could reject them).
 * Discovery answers are cached per group/version, once per cluster.
 */
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import type { RequestOptions as HttpsOptions } from "node:https";
import { Buffer } from "node:buffer";
import { CncfdemoError, errorMessage, UsageError } from "../errors.ts";
import { connectionProblem, CredentialError, KubeApiError } from "./errors.ts";

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string };
}

/** A request's query, body and how a 404 is taken. */
export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  /** Answer 404 with nothing instead of an error. */
  allow404?: boolean;
  signal?: AbortSignal;
}

export interface ApplyOptions {
  fieldManager?: string;
  dryRun?: boolean;
  force?: boolean;
}

export interface ResourceInfo {
  plural: string;
  namespaced: boolean;
}

/** One event of a watch. */
export type WatchEvent<T> =
  | { type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK"; object: T }
  | { type: "ERROR"; object: { code?: number; message?: string } };

function pem(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString("utf8");
  if (Array.isArray(v)) return v.map(pem).join("\n");
  return String(v);
}

/** The problem of a context's cluster entry that Deno's HTTP client cannot honour, if any. */
function unsupported(kc: KubeConfig): string | undefined {
  const cluster = kc.getCurrentCluster();
  const ctx = kc.getCurrentContext();
  if (!cluster) return `Context "${ctx}" names no cluster`;
  if (cluster.skipTLSVerify) {
    return `Context "${ctx}" skips TLS verification (insecure-skip-tls-verify); cncfdemo verifies the API server: give the cluster's CA (certificate-authority or certificate-authority-data)`;
  }
  if (cluster.tlsServerName) {
    return `Context "${ctx}" sets tls-server-name, which cncfdemo cannot honour; use a server address its certificate names`;
  }
  return undefined;
}

export class KubeRest {
  readonly server: string;
  readonly #kc: KubeConfig;
  readonly #proxy: string | undefined;
  #clients = new Map<string, Deno.HttpClient>();
  #resources = new Map<string, Promise<Map<string, ResourceInfo>>>();

  constructor(kc: KubeConfig) {
    const problem = unsupported(kc);
    if (problem) throw new UsageError(problem);
    const cluster = kc.getCurrentCluster()!;
    this.#kc = kc;
    this.server = cluster.server.replace(/\/+$/, "");
    this.#proxy = cluster.proxyUrl;
  }

  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }

  /** The HTTP client and headers of a request, from client-node's authentication of the context. */
  async #authenticated(): Promise<{ client: Deno.HttpClient; headers: Headers }> {
    const opts: HttpsOptions = {};
    try {
      await this.#kc.applyToHTTPSOptions(opts);
    } catch (err) {
      throw credentialProblem(this.#kc, err);
    }
    const ca = pem(opts.ca), cert = pem(opts.cert), key = pem(opts.key);
    const id = JSON.stringify([ca, cert, key]);
    let client = this.#clients.get(id);
    if (!client) {
      client = Deno.createHttpClient({
        ...(ca ? { caCerts: [ca] } : {}),
        ...(cert && key ? { cert, key } : {}),
        ...(this.#proxy ? { proxy: { url: this.#proxy } } : {}),
      });
      this.#clients.set(id, client);
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : String(v));
    }
    if (opts.auth) {
      headers.set("Authorization", `Basic ${Buffer.from(opts.auth).toString("base64")}`);
    }
    return { client, headers };
  }

  /** Sends one request; a non-2xx answer (but 404 with `allow404`) is a {@link KubeApiError}. */
  async #send(method: string, path: string, init: RequestOptions): Promise<Response | undefined> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(init.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, v);
    }
    const { client, headers } = await this.#authenticated();
    headers.set("Accept", "application/json, */*;q=0.8");
    if (init.body !== undefined) {
      headers.set("Content-Type", init.contentType ?? "application/json");
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        client,
        ...(init.signal ? { signal: init.signal } : {}),
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
    } catch (err) {
      if (init.signal?.aborted) throw err;
      throw new CncfdemoError(
        `Cannot reach the Kubernetes API server at ${this.server}: ${connectionProblem(err)}`,
        { cause: err },
      );
    }
    if (res.ok) return res;
    const text = await res.text();
    if (res.status === 404 && init.allow404) return undefined;
    throw apiError(method, path, res.status, text);
  }

  /** One request; JSON in and out. 404 → undefined when `allow404`. */
  async request<T>(method: string, path: string, init: RequestOptions = {}): Promise<T> {
    const text = await this.requestText(method, path, init);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** One request, the answer as text (e.g. through a service proxy). 404 → "" when `allow404`. */
  async requestText(method: string, path: string, init: RequestOptions = {}): Promise<string> {
    const res = await this.#send(method, path, init);
    return res ? await res.text() : "";
  }

  /**
   * Watches a collection (`path` without `?watch`) from `query.resourceVersion`; calls `onEvent`
   * for every event until the server ends the stream (resolves) or `signal` aborts (resolves).
   */
  async watch<T>(
    path: string,
    query: Record<string, string | undefined>,
    onEvent: (e: WatchEvent<T>) => void,
    signal: AbortSignal,
  ): Promise<void> {
    let res: Response | undefined;
    try {
      res = await this.#send("GET", path, { query: { ...query, watch: "true" }, signal });
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
    const reader = res!.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += value;
        let nl: number;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line) onEvent(JSON.parse(line) as WatchEvent<T>);
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      throw new CncfdemoError(`The watch of ${path} broke: ${connectionProblem(err)}`, {
        cause: err,
      });
    } finally {
      reader.releaseLock();
      await res!.body!.cancel().catch(() => {});
    }
  }

  /** The plural resource name and scope of a kind, from discovery (cached per group/version). */
  async resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    let table = this.#resources.get(apiVersion);
    if (!table) {
      const path = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      table = this.request<{ resources: { name: string; kind: string; namespaced: boolean }[] }>(
        "GET",
        path,
        { allow404: true },
      ).then((list) => {
        const m = new Map<string, ResourceInfo>();
        for (const r of list?.resources ?? []) {
          if (!r.name.includes("/")) m.set(r.kind, { plural: r.name, namespaced: r.namespaced });
        }
        return m;
      });
      this.#resources.set(apiVersion, table);
      table.catch(() => this.#resources.delete(apiVersion));
    }
    const info = (await table).get(kind);
    if (!info) {
      // A kind served since the table was read (a CRD just created): ask once more.
      this.#resources.delete(apiVersion);
      throw new CncfdemoError(`The API server does not serve ${kind} in ${apiVersion}`);
    }
    return info;
  }

  /** The REST path of an object (or of its collection when it has no name). */
  async path(ref: ObjectRef): Promise<string> {
    const { plural, namespaced } = await this.resource(ref.apiVersion, ref.kind);
    const base = ref.apiVersion.includes("/")
      ? `/apis/${ref.apiVersion}`
      : `/api/${ref.apiVersion}`;
    const ns = namespaced && ref.metadata?.namespace
      ? `/namespaces/${encodeURIComponent(ref.metadata.namespace)}`
      : "";
    const name = ref.metadata?.name ? `/${encodeURIComponent(ref.metadata.name)}` : "";
    return `${base}${ns}/${plural}${name}`;
  }

  /** Server-side apply with strict field validation; returns the object as stored (or as it would be). */
  async apply<R extends KubernetesObject = KubernetesObject>(
    obj: ObjectRef,
    o: ApplyOptions = {},
  ): Promise<R> {
    return await this.request<R>("PATCH", await this.path(obj), {
      query: {
        fieldManager: o.fieldManager ?? "cncfdemo",
        fieldValidation: "Strict",
        force: o.force === false ? undefined : "true",
        dryRun: o.dryRun ? "All" : undefined,
      },
      body: obj,
      contentType: "application/apply-patch+yaml",
    });
  }

  /** The live object, or undefined when it does not exist. */
  async get<T extends KubernetesObject>(ref: ObjectRef): Promise<T | undefined> {
    return await this.request<T | undefined>("GET", await this.path(ref), { allow404: true });
  }

  /** One page-by-page list of a collection path; with the list's resourceVersion. */
  async listPath<T extends KubernetesObject>(
    path: string,
    query: Record<string, string | undefined> = {},
  ): Promise<{ items: T[]; resourceVersion: string | undefined }> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.request<
        { items: T[]; metadata?: { continue?: string; resourceVersion?: string } }
      >("GET", path, { query: { ...query, limit: "500", continue: cont } });
      items.push(...page.items);
      resourceVersion = page.metadata?.resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  /** Every object of a kind (all namespaces unless one is given) matching a label selector. */
  async list<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    o: { namespace?: string; labelSelector?: string } = {},
  ): Promise<T[]> {
    const path = await this.path({
      apiVersion,
      kind,
      metadata: o.namespace ? { namespace: o.namespace } : {},
    });
    const { items } = await this.listPath<T>(path, { labelSelector: o.labelSelector });
    return items.map((it) => ({ ...it, apiVersion, kind }));
  }

  /** Deletes an object (background propagation); false when it was already gone. */
  async delete(
    ref: ObjectRef,
    o: { propagationPolicy?: string; dryRun?: boolean } = {},
  ): Promise<boolean> {
    const r = await this.request<unknown>("DELETE", await this.path(ref), {
      query: {
        propagationPolicy: o.propagationPolicy ?? "Background",
        dryRun: o.dryRun ? "All" : undefined,
      },
      allow404: true,
    });
    return r !== undefined;
  }
}

function apiError(method: string, path: string, status: number, text: string): KubeApiError {
  let body: {
    message?: string;
    reason?: string;
    details?: { causes?: { field?: string; message?: string }[] };
  } = {};
  try {
    body = JSON.parse(text);
  } catch {
    body = { message: text.slice(0, 200) };
  }
  return new KubeApiError(
    body.message || `${method} ${path}: HTTP ${status}`,
    status,
    body.reason ?? String(status),
    body.details?.causes ?? [],
  );
}

/** A failure to produce the context's credentials (an exec plugin, a token file), in one line. */
function credentialProblem(kc: KubeConfig, err: unknown): CncfdemoError {
  if (err instanceof CncfdemoError) return err;
  const user = kc.getCurrentUser();
  const exec = (user?.exec as { command?: string } | undefined)?.command;
  const what = exec ? `the exec plugin ${exec}` : `the user ${user?.name ?? "(none)"}`;
  return new CredentialError(
    `Cannot get credentials for context "${kc.getCurrentContext()}" from ${what}: ${
      errorMessage(err) || "it failed without a message"
    }`,
    { cause: err },
  );
}
