/**
 * Finding a cluster's EC2 resources by tag, and the tag specifications that create them already
 * tagged (so an interrupted run never leaves an untagged resource nobody can find).
 */
import type { ResourceType, Tag } from "@aws-sdk/client-ec2";
import { CLUSTER_TAG, clusterTags } from "./names.ts";

/** The filter that selects a cluster's resources. */
export function clusterFilter(name: string): { Name: string; Values: string[] } {
  return { Name: `tag:${CLUSTER_TAG}`, Values: [name] };
}

/** The filters that select a cluster's resources in its VPC. */
export function clusterFiltersIn(
  name: string,
  vpcId: string,
): { Name: string; Values: string[] }[] {
  return [clusterFilter(name), { Name: "vpc-id", Values: [vpcId] }];
}

/** TagSpecifications for a create call: cluster tag, Name and extras. */
export function tagSpec(
  type: ResourceType,
  cluster: string,
  extra: Record<string, string> = {},
): { ResourceType: ResourceType; Tags: Tag[] }[] {
  return [{ ResourceType: type, Tags: clusterTags(cluster, extra) }];
}

/** The value of a tag in a list of tags. */
export function tagValue(tags: readonly Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}
