/**
 * What every action of the `local` provider works on (kind's shape: a provider is a list of named
 * actions over one typed context): the options, where things live, the addresses, the host's
 * facts, the binaries, and one absolute deadline handed to every wait.
 */
import type { Resolved } from "../../binaries.ts";
import type { Kube } from "../../kube/client.ts";
import type { Deadline } from "../../wait.ts";
import type { HostFacts } from "./host.ts";
import type { LocalLayout, LocalNetwork } from "./layout.ts";

import type { ImagesMode } from "../../container_images.ts";

export type { ImagesMode };

export interface LocalCreateOptions {
  name: string;
  podCidr: string;
  serviceCidr: string;
  apiPort: number;
  /** Undefined: pull where a registry answers, else offline. */
  images?: ImagesMode | undefined;
  binDir?: string | undefined;
  kubeconfig?: string | undefined;
  timeoutMs: number;
}

export interface LocalDeleteOptions {
  name: string;
  kubeconfig?: string | undefined;
}

export interface LocalContext {
  options: LocalCreateOptions;
  layout: LocalLayout;
  net: LocalNetwork;
  /** The one deadline of the whole bootstrap, shared by its waits. */
  deadline: Deadline;
  facts?: HostFacts;
  bins?: Resolved["paths"];
  images?: ImagesMode;
  /** The images imported into the node (their full references). */
  imported?: string[];
  /** An admin connection, once the API server answers. */
  kube?: Kube;
  /** The kubeconfig the context is merged into. */
  kubeconfig: string;
}

/** Milliseconds left before the context's deadline. */
export function timeLeft(ctx: LocalContext): number {
  return ctx.deadline.left();
}
