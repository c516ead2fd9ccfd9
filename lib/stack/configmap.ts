/**
 * ConfigMaps from files, with kubectl's semantics: the key is the file's base name (or the key
 * given as `key=path`); UTF-8 text goes to `data`, anything else to `binaryData`; keys must be
 * valid ConfigMap keys and unique.
 */
import { Buffer } from "node:buffer";
import { UsageError } from "../errors.ts";

export interface ConfigMapObject {
  apiVersion: "v1";
  kind: "ConfigMap";
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

const KEY = /^[-._a-zA-Z0-9]+$/;

/** Builds a ConfigMap from (key, bytes) pairs. */
export function configMapFromFiles(
  name: string,
  namespace: string | undefined,
  files: readonly { key: string; data: Uint8Array; source?: string }[],
): ConfigMapObject {
  const cm: ConfigMapObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name } };
  if (namespace) cm.metadata.namespace = namespace;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const seen = new Map<string, string>();
  for (const f of files) {
    const from = f.source ?? f.key;
    if (!KEY.test(f.key) || f.key.length > 253) {
      throw new UsageError(
        `Cannot use "${f.key}" as a ConfigMap key (from ${from}): keys are letters, digits, '-', '_' and '.'; give one with --from-file=KEY=PATH`,
      );
    }
    if (seen.has(f.key)) {
      throw new UsageError(
        `ConfigMap key "${f.key}" comes from both ${seen.get(f.key)} and ${from}`,
      );
    }
    seen.set(f.key, from);
    try {
      (cm.data ??= {})[f.key] = decoder.decode(f.data);
    } catch {
      (cm.binaryData ??= {})[f.key] = Buffer.from(f.data).toString("base64");
    }
  }
  return cm;
}
