/**
 * The cluster's secrets, made by `bootstrap:aws` before any node exists: a self-signed Kubernetes CA
 * (RSA 2048, 10 years), the CA certificate hash that `kubeadm join` pins
 * (`sha256:<hex of the SubjectPublicKeyInfo>`), and a bootstrap token (`[a-z0-9]{6}.[a-z0-9]{16}`).
 * X.509 itself is in lib/pki.ts (WebCrypto and a small DER writer: no dependency).
 */
import { type Ca, makeCa as makeCaWith } from "../pki.ts";

export { pemBody, spkiOfCert } from "../pki.ts";

export interface ClusterSecrets {
  caCert: string;
  caKey: string;
  caCertHash: string;
  token: string;
}

/** A self-signed RSA-2048 CA certificate and its PKCS#8 key, both PEM (kubeadm's default key type). */
export function makeCa(
  commonName = "kubernetes",
  validDays = 3650,
  now = new Date(),
): Promise<Ca> {
  return makeCaWith(commonName, { keyType: "rsa-2048", validDays, now });
}

function hex(b: ArrayBuffer): string {
  return [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** `sha256:<hex>` of a DER SubjectPublicKeyInfo: what `kubeadm join --discovery-token-ca-cert-hash` pins. */
export async function caCertHash(spki: Uint8Array): Promise<string> {
  return `sha256:${hex(await crypto.subtle.digest("SHA-256", spki.slice()))}`;
}

/** A kubeadm bootstrap token, `[a-z0-9]{6}.[a-z0-9]{16}`, from the system's secure random source. */
export function bootstrapToken(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const pick = (n: number) => {
    let s = "";
    while (s.length < n) {
      for (const b of crypto.getRandomValues(new Uint8Array(n * 2))) {
        if (b < 252 && s.length < n) s += alphabet[b % 36]; // 252 = 7·36: no modulo bias
      }
    }
    return s;
  };
  return `${pick(6)}.${pick(16)}`;
}

/** A fresh CA, its hash and a bootstrap token. */
export async function makeClusterSecrets(): Promise<ClusterSecrets> {
  const ca = await makeCa();
  return {
    caCert: ca.cert,
    caKey: ca.key,
    caCertHash: await caCertHash(ca.spki),
    token: bootstrapToken(),
  };
}
