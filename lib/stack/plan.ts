/**
 * Everything a rollout needs before it applies: checks against the cluster (a StorageClass for
 * MongoDB's volumes), the generated secrets (reused from the cluster), the rendered objects.
 */
import { UsageError } from "../errors.ts";
import type { Kube } from "../kube/client.ts";
import { type Rendered, renderStack } from "./render.ts";
import { clusterSecrets, freshSecrets } from "./secrets.ts";
import type { Values } from "./values.ts";

/** Renders once with throwaway secrets: template errors surface before any cluster is touched. */
export async function checkTemplates(values: Values): Promise<number> {
  return (await renderStack(values, freshSecrets())).length;
}

/** Refuses values the cluster cannot satisfy, before anything is applied. */
export async function checkCluster(kube: Kube, values: Values): Promise<void> {
  const p = values.mongo.persistence;
  if (!p.enabled) return;
  const classes = await kube.rest.list<
    { metadata?: { name?: string; annotations?: Record<string, string> } }
  >(
    "storage.k8s.io/v1",
    "StorageClass",
  );
  if (p.storageClass) {
    if (!classes.some((c) => c.metadata?.name === p.storageClass)) {
      throw new UsageError(
        `Value mongo.persistence.storageClass: the cluster has no StorageClass "${p.storageClass}" (it has: ${
          classes.map((c) => c.metadata?.name).join(", ") || "none"
        })`,
      );
    }
    return;
  }
  const hasDefault = classes.some((c) =>
    c.metadata?.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true"
  );
  if (!hasDefault) {
    throw new UsageError(
      "MongoDB's volumes need a StorageClass and the cluster has no default one: pass --set mongo.persistence.storageClass=NAME, or --set mongo.persistence.enabled=false for throwaway data (simulated clusters)",
    );
  }
}

/** The objects to apply, with the cluster's existing secrets. */
export async function renderForCluster(
  kube: Kube,
  values: Values,
): Promise<{ objects: Rendered[]; reusedSecrets: number }> {
  const secrets = await clusterSecrets(kube, values);
  return { objects: await renderStack(values, secrets), reusedSecrets: secrets.reused };
}
