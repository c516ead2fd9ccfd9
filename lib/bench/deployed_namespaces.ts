/**
 * Where the demo was rolled out: its namespaces are values (`--set namespace=…`,
 * `monitoringNamespace=…`), so the bench finds them by the labels every rolled-out object carries
 * — Countly's Secret for the apps, the Pushgateway's Service for monitoring — not by name.
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import type { Kube } from "../kube/client.ts";
import { MANAGED_SELECTOR } from "../stack/components.ts";
import { COUNTLY_SECRET } from "./cluster_runner.ts";

export interface DeployedNamespaces {
  /** The namespace of Countly (and of the bench's Job), when the demo is deployed. */
  app?: string;
  /** The namespace of the Pushgateway and Prometheus, when they are deployed. */
  monitoring?: string;
}

/** The namespaces of the deployed demo (each undefined when that part is not there). */
export async function deployedNamespaces(kube: Kube): Promise<DeployedNamespaces> {
  const find = async (kind: string, component: string, name: string) => {
    const found = await kube.rest.list<KubernetesObject>("v1", kind, {
      labelSelector: `${MANAGED_SELECTOR},app.kubernetes.io/component=${component}`,
    });
    return found.find((o) => o.metadata?.name === name)?.metadata?.namespace;
  };
  const [app, monitoring] = await Promise.all([
    find("Secret", "countly-api", COUNTLY_SECRET),
    find("Service", "pushgateway", "pushgateway"),
  ]);
  return { ...(app ? { app } : {}), ...(monitoring ? { monitoring } : {}) };
}
