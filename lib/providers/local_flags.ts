/** The flags of a local cluster, shared by bootstrap:local and demo. */
import { CIDR_EXPECTED, parseCidr } from "../cidr.ts";
import { flag } from "../flags.ts";
import { clusterNameFlag } from "./sim_flags.ts";

/** A CIDR flag with a default, parsed to its canonical text. */
const cidr = (description: string, def: string) => ({
  ...flag.string(description, { default: def, placeholder: "CIDR" }),
  parse: (raw: string) => parseCidr(raw)?.text,
  expected: CIDR_EXPECTED,
});

export const localFlags = {
  name: clusterNameFlag,
  "pod-cidr": cidr("Pods' addresses; the node's bridge takes the first", "10.244.0.0/16"),
  "service-cidr": cidr("Services' addresses, routed onto the node's bridge", "10.96.0.0/16"),
  "api-port": flag.int("The API server's port on the node's address", {
    min: 1,
    max: 65_535,
    default: 6443,
  }),
  images: flag.choice(
    "Where images come from: built here and imported (offline) or pulled from registries (default: pull when a registry answers, else offline)",
    ["offline", "pull"] as const,
    { placeholder: "offline|pull" },
  ),
  "bin-dir": flag.string("Directory holding the binaries (default: the cache)", {
    placeholder: "DIR",
  }),
  timeout: flag.duration("How long the whole bootstrap may take", { default: "10m" }),
};
