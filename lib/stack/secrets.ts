/**
 * The stack's generated secrets: the Grafana admin password and the Countly app key. Generated
 * once (crypto-random) and read back from the cluster on later rollouts, so a re-run changes
 * nothing and nobody's password rotates under them.
 */
import type { V1Secret } from "@kubernetes/client-node";
import { Buffer } from "node:buffer";
import type { Kube } from "../kube/client.ts";
import type { GeneratedSecrets } from "./render.ts";
import type { Values } from "./values.ts";

/** A random token of `bytes` bytes, URL-safe base64. */
export function randomToken(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url");
}

/** Fresh secrets (for `render`, which does not talk to a cluster). */
export function freshSecrets(): GeneratedSecrets {
  return { grafanaAdminPassword: randomToken(24), countlyAppKey: randomToken(20) };
}

async function secretValue(
  kube: Kube,
  namespace: string,
  name: string,
  key: string,
): Promise<string | undefined> {
  const s = await kube.rest.get<V1Secret>({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { namespace, name },
  });
  const b64 = s?.data?.[key];
  return b64 ? Buffer.from(b64, "base64").toString("utf8") : undefined;
}

/** The secrets already in the cluster, or new ones where there are none. */
export async function clusterSecrets(
  kube: Kube,
  values: Values,
): Promise<GeneratedSecrets & { reused: number }> {
  const fresh = freshSecrets();
  const grafana = await secretValue(
    kube,
    values.monitoringNamespace,
    "grafana-admin",
    "admin-password",
  );
  const countly = await secretValue(kube, values.namespace, "countly", "app-key");
  return {
    grafanaAdminPassword: grafana ?? fresh.grafanaAdminPassword,
    countlyAppKey: countly ?? fresh.countlyAppKey,
    reused: (grafana ? 1 : 0) + (countly ? 1 : 0),
  };
}
