/**
 * Providers behind one interface (as kind's providers): each knows how to bring a named cluster
 * up as a list of steps, take it down again, and list the clusters it has. Tasks pick a provider
 * by id: `sim`, `local` and `aws`; `azure` and `gcp` come later.
 */
import type { Step, StepGroup } from "../steps.ts";

export type ProviderId = "sim" | "local" | "aws";

/** What a bootstrap leaves for the next steps and the user. */
export interface ClusterInfo {
  provider: ProviderId;
  name: string;
  /** The kube context merged into the user's kubeconfig. */
  context: string;
  /** The kubeconfig file the context was merged into. */
  kubeconfig: string;
  /** The API server URL. */
  server?: string;
}

export interface Provider<CreateOptions, DeleteOptions> {
  readonly id: ProviderId;
  /** The kube context name for a cluster name: `sim-<name>`, `aws-<name>`. */
  contextName(name: string): string;
  /**
   * Checks that change nothing (the host can take the cluster, the options fit it), run before any
   * step so that bad input is one line and leaves nothing behind.
   */
  preflight?(options: CreateOptions): Promise<void>;
  /** Steps that create the cluster or converge an existing one; `info` is filled as they run. */
  bootstrapSteps(options: CreateOptions, info: Partial<ClusterInfo>): (Step | StepGroup)[];
  /** Steps that delete everything of the cluster; safe to run again. */
  teardownSteps(options: DeleteOptions): (Step | StepGroup)[];
  /** Names of the clusters that exist. */
  list(): Promise<string[]>;
}

/** Cluster names: DNS labels, short enough for every provider's resource names. */
export const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/;
export const CLUSTER_NAME_EXPECTED =
  "lowercase letters, digits and '-', 1–40 characters, starting and ending with a letter or digit";

/** Validates a cluster name, returning what is expected when it is invalid. */
export function validateClusterName(name: string): string | undefined {
  return CLUSTER_NAME.test(name) ? undefined : CLUSTER_NAME_EXPECTED;
}
