import assert from "node:assert/strict";
import type { V1Node } from "@kubernetes/client-node";
import { modelOf } from "./cluster_facts.ts";

Deno.test("modelOf: kwok nodes are sim, a bootstrap:local node is local, EC2 nodes are aws", () => {
  const node = (labels: Record<string, string>, providerID?: string): V1Node => ({
    metadata: { labels },
    ...(providerID ? { spec: { providerID } } : {}),
  });
  assert.equal(modelOf([node({ type: "kwok" }), node({ type: "kwok" })]), "sim");
  assert.equal(modelOf([node({ "cncfdemo.io/provider": "local" })]), "local");
  assert.equal(modelOf([node({}, "aws:///eu-west-1a/i-0123")]), "aws");
  assert.equal(modelOf([node({})]), "kubernetes");
});
