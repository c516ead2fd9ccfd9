/**
 * The cluster's secrets, made by `bootstrap:aws` before any node exists: a self-signed Kubernetes CA
 * (RSA 2048, 10 years), the CA certificate hash that `kubeadm join` pins
 * (`sha256:<hex of the SubjectPublicKeyInfo>`), and a bootstrap token (`[a-z0-9]{6}.[a-z0-9]{16}`).
 * X.509 is encoded here with WebCrypto and a small DER writer: no dependency.
 */

export interface ClusterSecrets {
  caCert: string;
  caKey: string;
  caCertHash: string;
  token: string;
}

// ---- DER ----------------------------------------------------------------------------------------

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concat(content);
  const n = body.length;
  let len: number[];
  if (n < 0x80) len = [n];
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
    len = [0x80 | bytes.length, ...bytes];
  }
  return concat([new Uint8Array([tag, ...len]), body]);
}

const seq = (...c: Uint8Array[]) => tlv(0x30, ...c);
const set = (...c: Uint8Array[]) => tlv(0x31, ...c);
const octets = (b: Uint8Array) => tlv(0x04, b);
const bool = (v: boolean) => tlv(0x01, new Uint8Array([v ? 0xff : 0]));
const nul = () => tlv(0x05);
const utf8 = (s: string) => tlv(0x0c, new TextEncoder().encode(s));
const explicit = (n: number, ...c: Uint8Array[]) => tlv(0xa0 + n, ...c);

function integer(bytes: Uint8Array): Uint8Array {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) b = b.subarray(1);
  if (b[0]! & 0x80) b = concat([new Uint8Array([0]), b]);
  return tlv(0x02, b);
}

function bitString(b: Uint8Array, unused = 0): Uint8Array {
  return tlv(0x03, new Uint8Array([unused]), b);
}

function oid(text: string): Uint8Array {
  const parts = text.split(".").map(Number);
  const out = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const bytes = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) {
      bytes.unshift(0x80 | (v & 0x7f));
    }
    out.push(...bytes);
  }
  return tlv(0x06, new Uint8Array(out));
}

function time(d: Date): Uint8Array {
  const iso = d.toISOString().replace(/[-:T]/g, "").slice(0, 14); // YYYYMMDDHHMMSS
  return d.getUTCFullYear() < 2050
    ? tlv(0x17, new TextEncoder().encode(iso.slice(2) + "Z"))
    : tlv(0x18, new TextEncoder().encode(iso + "Z"));
}

function pem(label: string, der: Uint8Array): string {
  let bin = "";
  for (const b of der) bin += String.fromCharCode(b);
  const b64 = btoa(bin).replace(/(.{64})/g, "$1\n").trimEnd();
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** The DER bytes inside the first PEM block of `text`. */
export function pemBody(text: string): Uint8Array {
  const b64 = text.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

function hex(b: ArrayBuffer | Uint8Array): string {
  return [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
}

// ---- CA -----------------------------------------------------------------------------------------

const SHA256_RSA = seq(oid("1.2.840.113549.1.1.11"), nul());

/** A self-signed CA certificate and its PKCS#8 key, both PEM. */
export async function makeCa(
  commonName = "kubernetes",
  validDays = 3650,
  now = new Date(),
): Promise<{ cert: string; key: string; spki: Uint8Array }> {
  const alg = {
    name: "RSASSA-PKCS1-v1_5",
    hash: "SHA-256",
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
  };
  const keys = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const name = seq(set(seq(oid("2.5.4.3"), utf8(commonName))));
  const notBefore = new Date(now.getTime() - 5 * 60_000);
  const notAfter = new Date(now.getTime() + validDays * 86_400_000);
  const ski = new Uint8Array(await crypto.subtle.digest("SHA-1", spki)).subarray(0, 20);
  const extensions = seq(
    // keyUsage (critical): digitalSignature, keyEncipherment, keyCertSign
    seq(oid("2.5.29.15"), bool(true), octets(bitString(new Uint8Array([0xa4]), 2))),
    // basicConstraints (critical): CA
    seq(oid("2.5.29.19"), bool(true), octets(seq(bool(true)))),
    // subjectKeyIdentifier
    seq(oid("2.5.29.14"), octets(octets(ski))),
  );
  const tbs = seq(
    explicit(0, integer(new Uint8Array([2]))),
    integer(serial),
    SHA256_RSA,
    name,
    seq(time(notBefore), time(notAfter)),
    name,
    spki,
    explicit(3, extensions),
  );
  const sig = new Uint8Array(await crypto.subtle.sign(alg.name, keys.privateKey, tbs.slice()));
  const cert = seq(tbs, SHA256_RSA, bitString(sig));
  return { cert: pem("CERTIFICATE", cert), key: pem("PRIVATE KEY", pkcs8), spki };
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

/** The DER SubjectPublicKeyInfo inside a DER certificate (tbsCertificate's 7th element). */
export function spkiOfCert(der: Uint8Array): Uint8Array {
  const read = (b: Uint8Array, off: number) => {
    let len = b[off + 1]!;
    let hdr = 2;
    if (len & 0x80) {
      const k = len & 0x7f;
      len = 0;
      for (let i = 0; i < k; i++) len = len * 256 + b[off + 2 + i]!;
      hdr += k;
    }
    return { tag: b[off]!, start: off + hdr, end: off + hdr + len, off };
  };
  const cert = read(der, 0);
  const tbs = read(der, cert.start);
  let cur = tbs.start;
  const children = [];
  while (cur < tbs.end) {
    const c = read(der, cur);
    children.push(c);
    cur = c.end;
  }
  // [0] version, serial, signature, issuer, validity, subject, spki
  const spki = children[children[0]!.tag === 0xa0 ? 6 : 5]!;
  return der.subarray(spki.off, spki.end);
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
