/**
 * A small REST client for what @kubernetes/client-node's generic object API cannot do exactly:
 * server-side apply with `fieldValidation=Strict` and the object sent byte for byte (client-node
 * serialises known kinds through its models, which silently drops unknown fields before the API
 * server could reject them), dry runs, and discovery of any kind. It reuses the kubeconfig that
 * client-node loaded (client certificates, CA, bearer token) through Deno's own HTTP client.
 */
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import { Buffer } from "node:buffer";
import { CncfdemoError } from "../errors.ts";
import { connectionProblem } from "./client.ts";

/** An error answer of the API server, with its HTTP status and reason. */
export class KubeApiError extends CncfdemoError {
  constructor(
    message: string,
    readonly status: number,
    readonly reason: string,
    readonly causes: { field?: string; message?: string }[] = [],
  ) {
    super(message);
  }
}

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
}

export interface ApplyOptions {
  fieldManager?: string;
  dryRun?: boolean;
  force?: boolean;
}

interface ResourceInfo {
  plural: string;
  namespaced: boolean;
}

function pemOf(data: string | undefined, file: string | undefined): string | undefined {
  if (data) return Buffer.from(data, "base64").toString("utf8");
  if (file) return Deno.readTextFileSync(file);
  return undefined;
}

export class KubeRest {
  readonly server: string;
  #client: Deno.HttpClient;
  #token: string | undefined;
  #resources = new Map<string, Promise<Map<string, ResourceInfo>>>();

  constructor(kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    const user = kc.getCurrentUser();
    if (!cluster) throw new CncfdemoError(`Context "${kc.getCurrentContext()}" names no cluster`);
    this.server = cluster.server.replace(/\/+$/, "");
    const ca = pemOf(cluster.caData, cluster.caFile);
    const cert = pemOf(user?.certData, user?.certFile);
    const key = pemOf(user?.keyData, user?.keyFile);
    this.#token = user?.token;
    if (cluster.skipTLSVerify) {
      throw new CncfdemoError(
        `Context "${kc.getCurrentContext()}" skips TLS verification (insecure-skip-tls-verify); cncfdemo needs the cluster's CA (certificate-authority-data)`,
      );
    }
    this.#client = Deno.createHttpClient({
      ...(ca ? { caCerts: [ca] } : {}),
      ...(cert && key ? { cert, key } : {}),
    });
  }

  close(): void {
    this.#client.close();
  }

  /** One request; JSON in and out. 404 → undefined when `allow404`. */
  async request<T>(
    method: string,
    path: string,
    init: RequestOptions = {},
  ): Promise<T> {
    const text = await this.requestText(method, path, init);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** One request, the answer as text (e.g. through a service proxy). 404 → "" when `allow404`. */
  async requestText(
    method: string,
    path: string,
    init: RequestOptions = {},
  ): Promise<string> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(init.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, v);
    }
    const headers: Record<string, string> = { Accept: "application/json, */*;q=0.8" };
    if (this.#token) headers.Authorization = `Bearer ${this.#token}`;
    if (init.body !== undefined) headers["Content-Type"] = init.contentType ?? "application/json";
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        client: this.#client,
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
    } catch (err) {
      throw new CncfdemoError(
        `Cannot reach the Kubernetes API server at ${this.server}: ${connectionProblem(err)}`,
        {
          cause: err,
        },
      );
    }
    const text = await res.text();
    if (res.ok) return text;
    if (res.status === 404 && init.allow404) return "";
    let status: {
      message?: string;
      reason?: string;
      details?: { causes?: { field?: string; message?: string }[] };
    } = {};
    try {
      status = JSON.parse(text);
    } catch {
      status = { message: text.slice(0, 200) };
    }
    throw new KubeApiError(
      status.message ?? `${method} ${path}: HTTP ${res.status}`,
      res.status,
      status.reason ?? String(res.status),
      status.details?.causes ?? [],
    );
  }

  /** The plural resource name and scope of a kind, from discovery (cached per group/version). */
  async resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    let table = this.#resources.get(apiVersion);
    if (!table) {
      const path = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      table = this.request<{ resources: { name: string; kind: string; namespaced: boolean }[] }>(
        "GET",
        path,
        {
          allow404: true,
        },
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
    if (!info) throw new CncfdemoError(`The API server does not serve ${kind} in ${apiVersion}`);
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
    const items: T[] = [];
    let cont: string | undefined;
    do {
      const page = await this.request<{ items: T[]; metadata?: { continue?: string } }>(
        "GET",
        path,
        {
          query: { labelSelector: o.labelSelector, limit: "500", continue: cont },
        },
      );
      for (const it of page.items) items.push({ ...it, apiVersion, kind });
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return items;
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
