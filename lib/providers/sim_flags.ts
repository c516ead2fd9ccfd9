/** The flags that size a simulated cluster, shared by bootstrap:sim and demo. */
import { flag } from "../flags.ts";
import { validateClusterName } from "./provider.ts";

export const clusterNameFlag = flag.string("Cluster name", {
  default: "cncfdemo",
  placeholder: "NAME",
  validate: validateClusterName,
  expected:
    "lowercase letters, digits and '-', 1–40 characters, starting and ending with a letter or digit",
});

export const simFlags = {
  name: clusterNameFlag,
  nodes: flag.int("Number of simulated nodes", { min: 1, max: 5_000, default: 3 }),
  "node-cpu": flag.quantity("Allocatable CPU per node", { default: "8", example: "8 or 3500m" }),
  "node-memory": flag.quantity("Allocatable memory per node", {
    default: "32Gi",
    example: "512Mi or 32Gi",
  }),
  "node-pods": flag.int("Pods per node", { min: 1, max: 1_000, default: 110 }),
  "bin-dir": flag.string(
    "Directory holding the Kubernetes, etcd and kwok binaries (default: the cache)",
    {
      placeholder: "DIR",
    },
  ),
  timeout: flag.duration(
    "Deadline of the bootstrap, shared by its waits (API server, nodes, metrics API)",
    { default: "5m" },
  ),
};
