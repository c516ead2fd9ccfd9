/**
 * The user data of the cluster's nodes: cloud-config that writes `/etc/sysconfig/kubernetes-masters`
 * or `/etc/sysconfig/kubernetes-minions` (as the seed describes); the baked image's systemd units
 * are gated on those files and do the rest (images/node/). No secret is in the user data: the
 * nodes read the kubeadm configuration from SSM SecureString parameters with their instance role.
 */
import { VERSIONS } from "../binaries.ts";
import type { ClusterNames, Role } from "./names.ts";

export interface UserDataInput {
  names: ClusterNames;
  region: string;
  /** The Elastic IP allocation the master associates with itself (masters only). */
  allocationId?: string | undefined;
}

/** The sysconfig file's lines for a role. */
export function sysconfig(role: Role, i: UserDataInput): Record<string, string> {
  const n = i.names;
  const common = {
    CLUSTER_NAME: n.cluster,
    AWS_REGION: i.region,
    API_ENDPOINT: `${n.apiHost}:6443`,
    KUBERNETES_VERSION: VERSIONS.kubernetes,
  };
  if (role === "minions") return { ...common, KUBEADM_JOIN_PARAMETER: n.param.kubeadmJoin };
  return {
    ...common,
    KUBEADM_INIT_PARAMETER: n.param.kubeadmInit,
    CA_CERT_PARAMETER: n.param.caCert,
    CA_KEY_PARAMETER: n.param.caKey,
    TOKEN_PARAMETER: n.param.token,
    ADMIN_CONF_PARAMETER: n.param.adminConf,
    ...(i.allocationId ? { API_ALLOCATION_ID: i.allocationId } : {}),
  };
}

/** cloud-config text for a role's launch template. */
export function userData(role: Role, i: UserDataInput): string {
  const body = Object.entries(sysconfig(role, i)).map(([k, v]) => `      ${k}=${v}`).join("\n");
  return [
    "#cloud-config",
    "write_files:",
    `  - path: /etc/sysconfig/kubernetes-${role}`,
    '    permissions: "0644"',
    "    content: |",
    body,
    "",
  ].join("\n");
}
