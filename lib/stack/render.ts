/**
 * Rendering the demo stack: every `templates/<component>/*.yaml.njk` through nunjucks with the
 * values, plus the ConfigMaps autodetected from `templates/<component>/configmaps/<name>/` (one key
 * per file; files ending in `.njk` are rendered first). Every object gets the common labels, its
 * pod template too. Template errors name the file and line. Components switched off in the values
 * render nothing; each namespace is rendered with the first enabled component that lives in it.
 */
// @ts-types="npm:@types/nunjucks@3.2.6"
import nunjucks from "nunjucks";
import { parseAllDocuments, stringify } from "yaml";
import type { KubernetesObject } from "@kubernetes/client-node";
import { UsageError } from "../errors.ts";
import { configMapFromFiles } from "./configmap.ts";
import { commonLabels, type Component, COMPONENTS, MONITORING } from "./components.ts";
import { nodeHeapMiB, wiredTigerCacheGB } from "./sizing.ts";
import { isEnabled } from "./switches.ts";
import { imageOf, type ImageRef, type Values } from "./values.ts";
import { WAVE_ORDER, waveOf } from "./waves.ts";

/** Secrets generated at rollout time (kept across runs by reading them back from the cluster). */
export interface GeneratedSecrets {
  grafanaAdminPassword: string;
  countlyAppKey: string;
}

/** A rendered object with where it came from. */
export interface Rendered extends KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
  };
}

/** The templates: `templates/` of this repository, or CNCFDEMO_TEMPLATES_DIR (template development). */
export const TEMPLATES_DIR = (() => {
  const dir = Deno.env.get("CNCFDEMO_TEMPLATES_DIR");
  return dir ? dir.replace(/\/?$/, "/") : new URL("../../templates/", import.meta.url).pathname;
})();

const CLUSTER_SCOPED = new Set([
  "Namespace",
  "PriorityClass",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "StorageClass",
  "PersistentVolume",
]);

/** Multi-document YAML of objects, as `render` prints them. */
export function toYaml(objects: readonly Rendered[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
}

/** Whether objects of a kind live outside namespaces. */
export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind);
}

/** `Kind namespace/name` (or `Kind name`). */
export function objectId(
  o: { kind?: string; metadata?: { name?: string; namespace?: string } },
): string {
  const ns = o.metadata?.namespace;
  return `${o.kind} ${ns ? `${ns}/` : ""}${o.metadata?.name}`;
}

/** The namespace a component's objects go to. */
export function namespaceOf(component: Component, values: Values): string {
  return MONITORING.has(component) ? values.monitoringNamespace : values.namespace;
}

function environment(dir: string): nunjucks.Environment {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(dir, { noCache: true }), {
    autoescape: false,
    throwOnUndefined: true,
    trimBlocks: true,
    lstripBlocks: true,
  });
  env.addFilter("image", (ref: ImageRef) => imageOf(ref));
  // JSON is YAML: `{{ x | json }}` writes any value safely inline.
  env.addFilter("json", (v: unknown) => JSON.stringify(v));
  env.addFilter("b64", (v: unknown) => btoa(String(v)));
  // Memory settings sized to a container's limit (lib/stack/sizing.ts).
  env.addFilter("heapMiB", (limit: string, processes: number) => nodeHeapMiB(limit, processes));
  env.addFilter("wiredTigerCacheGB", (limit: string) => wiredTigerCacheGB(limit));
  return env;
}

/** Turns nunjucks' multi-line error into `Cannot render FILE line N: reason`. */
function templateError(file: string, err: unknown): UsageError {
  const text = err instanceof Error ? err.message : String(err);
  const line = /\[Line (\d+), Column \d+\]/.exec(text)?.[1];
  const reason = text.split("\n").map((l) => l.trim()).filter((l) =>
    l && !/^\(.*\)$/.test(l) && !/^\[Line/.test(l)
  )
    .join(" ").replace(/^Template render error:\s*/, "").replace(/\(unknown path\)\s*/, "");
  return new UsageError(`Cannot render ${file}${line ? ` line ${line}` : ""}: ${reason || text}`);
}

function addLabels(obj: Rendered, component: Component): void {
  const labels = commonLabels(component);
  obj.metadata.labels = { ...(obj.metadata.labels ?? {}), ...labels };
  // deno-lint-ignore no-explicit-any
  const spec = (obj as any).spec;
  const podTemplate = obj.kind === "CronJob" ? spec?.jobTemplate?.spec?.template : spec?.template;
  if (podTemplate && typeof podTemplate === "object") {
    podTemplate.metadata ??= {};
    podTemplate.metadata.labels = { ...(podTemplate.metadata.labels ?? {}), ...labels };
  }
}

/** Names of the files (or directories) in `dir`, sorted; none when it does not exist. */
async function entries(dir: string, want: "file" | "directory"): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (want === "file" ? e.isFile : e.isDirectory) out.push(e.name);
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  return out.sort();
}

/**
 * Renders the whole stack. Pure: the same values and secrets give the same objects, in a stable
 * order: by wave (apply order), then component, then file.
 */
export async function renderStack(
  values: Values,
  secrets: GeneratedSecrets,
  templatesDir: string = TEMPLATES_DIR,
): Promise<Rendered[]> {
  const env = environment(templatesDir);
  const objects: Rendered[] = [];
  const seen = new Map<string, string>();
  const components = COMPONENTS.filter((c) => isEnabled(values, c));
  /** Which component is switched on, for templates: `{% if enabled.pushgateway %}`. */
  const enabled = Object.fromEntries(COMPONENTS.map((c) => [c, components.includes(c)]));
  // A namespace exists while any component in it is on; it carries the first one's labels.
  const namespaceOwners = new Map<string, Component>();
  for (const c of components) {
    const ns = namespaceOf(c, values);
    if (!namespaceOwners.has(ns)) namespaceOwners.set(ns, c);
  }
  for (const component of components) {
    const dir = `${templatesDir}${component}`;
    const namespace = namespaceOf(component, values);
    const context = {
      values,
      secrets,
      component,
      namespace,
      enabled,
      labels: commonLabels(component),
    };
    const docs: { file: string; obj: Rendered }[] = [];
    if (namespaceOwners.get(namespace) === component) {
      docs.push({
        file: `the namespace of ${component}`,
        obj: { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels: {} } },
      });
    }
    for (const name of await entries(dir, "file")) {
      if (!name.endsWith(".yaml.njk")) continue;
      const file = `templates/${component}/${name}`;
      let text: string;
      try {
        text = env.render(`${component}/${name}`, context);
      } catch (err) {
        throw templateError(file, err);
      }
      for (const doc of parseAllDocuments(text)) {
        if (doc.errors.length) {
          throw new UsageError(
            `Cannot parse the YAML rendered from ${file}: ${doc.errors[0]!.message.split("\n")[0]}`,
          );
        }
        const obj = doc.toJS();
        if (obj === null || obj === undefined) continue;
        if (typeof obj !== "object" || !obj.apiVersion || !obj.kind || !obj.metadata?.name) {
          throw new UsageError(
            `${file} rendered a document without apiVersion, kind and metadata.name`,
          );
        }
        docs.push({ file, obj: obj as Rendered });
      }
    }
    for (const cm of await entries(`${dir}/configmaps`, "directory")) {
      const files: { key: string; data: Uint8Array }[] = [];
      for (const name of await entries(`${dir}/configmaps/${cm}`, "file")) {
        const rel = `${component}/configmaps/${cm}/${name}`;
        if (name.endsWith(".njk")) {
          let text: string;
          try {
            text = env.render(rel, context);
          } catch (err) {
            throw templateError(`templates/${rel}`, err);
          }
          files.push({ key: name.slice(0, -4), data: new TextEncoder().encode(text) });
        } else {
          files.push({ key: name, data: await Deno.readFile(`${templatesDir}${rel}`) });
        }
      }
      docs.push({
        file: `templates/${component}/configmaps/${cm}/`,
        obj: configMapFromFiles(cm, namespace, files) as Rendered,
      });
    }
    for (const { file, obj } of docs) {
      if (isClusterScoped(obj.kind)) delete obj.metadata.namespace;
      else obj.metadata.namespace ??= namespace;
      addLabels(obj, component);
      const id = objectId(obj);
      if (seen.has(id)) {
        throw new UsageError(`${id} is rendered twice: by ${seen.get(id)} and ${file}`);
      }
      seen.set(id, file);
      objects.push(obj);
    }
  }
  // In apply order, as helm template prints by install order; stable within a wave.
  const rank = (o: Rendered) => WAVE_ORDER.indexOf(waveOf(o));
  return objects.map((o, i) => ({ o, i })).sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i).map((
    x,
  ) => x.o);
}
