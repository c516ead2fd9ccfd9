/**
 * The admin kubeconfig the master publishes (kubeadm's admin.conf, in SSM), turned into the
 * `aws-<name>` kube entry pointed at the API server's public address.
 */
import { parse as parseYaml } from "yaml";
import { CncfdemoError } from "../errors.ts";
import type { KubeEntry } from "../kube/kubeconfig.ts";

/** The kube entry from kubeadm's admin.conf, pointed at the public address. */
export function kubeEntryFrom(text: string, name: string, server: string): KubeEntry {
  const doc = parseYaml(text) as {
    clusters?: { cluster?: Record<string, string> }[];
    users?: { user?: Record<string, string> }[];
  };
  const cluster = doc.clusters?.[0]?.cluster ?? {};
  const user = doc.users?.[0]?.user ?? {};
  if (!cluster["certificate-authority-data"] || !user["client-certificate-data"]) {
    throw new CncfdemoError("The published admin kubeconfig has no CA or client certificate");
  }
  return {
    name,
    server,
    certificateAuthorityData: cluster["certificate-authority-data"],
    clientCertificateData: user["client-certificate-data"],
    ...(user["client-key-data"] ? { clientKeyData: user["client-key-data"] } : {}),
  };
}
