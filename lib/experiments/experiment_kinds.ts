/**
 * What an experiment is asked, light to import (the task parses it before the Kubernetes client
 * loads): the kinds and `deployment/NAME` references.
 */
import { UsageError } from "../errors.ts";

export const EXPERIMENT_KINDS = ["chaos", "autoscale", "background"] as const;
export type ExperimentKind = typeof EXPERIMENT_KINDS[number];

/** `deployment/NAME` in a namespace. */
export interface DeploymentRef {
  namespace: string;
  name: string;
}

/** Parses `deployment/NAME` (or `NAME`). */
export function parseDeploymentRef(text: string, namespace: string, flag: string): DeploymentRef {
  const m = /^(?:(?:deployment|deploy|deployments)(?:\.apps)?\/)?([a-z0-9]([-a-z0-9]*[a-z0-9])?)$/
    .exec(text);
  if (!m) {
    throw new UsageError(
      `Cannot use ${flag} "${text}": expected deployment/NAME, e.g. ${flag} deployment/countly-api`,
    );
  }
  return { namespace, name: m[1]! };
}
