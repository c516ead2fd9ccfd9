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

type StorageClass = { metadata?: { name?: string; annotations?: Record<string, string> } };

async function storageClasses(kube: Kube): Promise<StorageClass[]> {
  return await kube.rest.list<StorageClass>("storage.k8s.io/v1", "StorageClass");
}

function isDefaultClass(c: StorageClass): boolean {
  return c.metadata?.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true";
}

/** Whether the cluster has a default StorageClass (simulated clusters have none). */
export async function hasDefaultStorageClass(kube: Kube): Promise<boolean> {
  return (await storageClasses(kube)).some(isDefaultClass);
}

/** Refuses values the cluster cannot satisfy, before anything is applied. */
export async function checkCluster(kube: Kube, values: Values): Promise<void> {
  const p = values.mongo.persistence;
  if (!values.mongo.enabled || !p.enabled) return;
  const classes = await storageClasses(kube);
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
  if (!classes.some(isDefaultClass)) {
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
