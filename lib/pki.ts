/**
 * X.509 for the clusters, with WebCrypto, a small DER writer and a small DER reader: no dependency.
 *
 * - {@link makeCa}: a self-signed v3 CA (ECDSA P-256 unless asked for RSA 2048);
 * - {@link issueCert}: a v3 leaf signed by a CA (ECDSA P-256 key), for TLS servers, clients or
 *   both, with the extensions Go, Kubernetes, OpenSSL and rustls expect (keyUsage, extKeyUsage,
 *   basicConstraints CA:FALSE, subject and authority key identifiers, DNS and IP SANs);
 * - {@link makeKeyPair} / {@link publicKeyPem}: bare key pairs (the ServiceAccount signing key);
 * - {@link certInfo} / {@link isIssuedBy}: a certificate read back, and whether a CA signed it, to
 *   decide whether a certificate on disk can be kept.
 *
 * Keys are PKCS#8 PEM ("PRIVATE KEY"), public keys SubjectPublicKeyInfo PEM ("PUBLIC KEY").
 *
 * Why ECDSA P-256 for the CAs too: in Deno's WebCrypto an RSA-2048 key pair takes about 170 ms
 * (median; 700 ms at the tail, the prime search is random) against 0.03 ms for P-256, and a cluster
 * has three CAs and a ServiceAccount key. Go's crypto/x509, Kubernetes (kubeadm's
 * `encryptionAlgorithm: ECDSA-P256`), etcd, OpenSSL and rustls all take ECDSA chains.
 */
import { CncfdemoError } from "./errors.ts";

/** The key algorithms we make. */
export type KeyType = "ecdsa-p256" | "rsa-2048";

/** What a leaf certificate is for: its extKeyUsage (serverAuth, clientAuth or both). */
export type CertUsage = "server" | "client" | "both";

/** A certificate and its private key, both PEM (the key PKCS#8). */
export interface CertAndKey {
  cert: string;
  key: string;
}

/** A CA from {@link makeCa}: certificate, key, and its DER SubjectPublicKeyInfo. */
export interface Ca extends CertAndKey {
  spki: Uint8Array;
}

export interface CaOptions {
  /** Default `ecdsa-p256`. */
  keyType?: KeyType;
  /** Default 3650 (ten years, as kubeadm). */
  validDays?: number;
  /** The issue time (tests); notBefore is five minutes earlier, for clock skew. */
  now?: Date;
}

export interface CertRequest {
  commonName: string;
  /** Subject O=, one RDN each (Kubernetes reads them as groups). */
  organizations?: string[];
  dnsNames?: string[];
  /** IPv4 or IPv6 addresses, as text. */
  ips?: string[];
  usage: CertUsage;
  /** Default 365 (as kubeadm). */
  validDays?: number;
  /** Default `ecdsa-p256`; RSA leaves also get keyEncipherment. */
  keyType?: KeyType;
  now?: Date;
}

export interface DistinguishedName {
  commonName?: string;
  organizations: string[];
}

/** A certificate read back by {@link certInfo}. */
export interface CertInfo {
  /** 1 for v1, 3 for v3. */
  version: number;
  /** Hex, as encoded (a positive serial may start with 00). */
  serial: string;
  subject: DistinguishedName;
  issuer: DistinguishedName;
  notBefore: Date;
  notAfter: Date;
  dnsNames: string[];
  /** Canonical text (IPv6 compressed, lower case). */
  ips: string[];
  isCa: boolean;
  /** keyUsage bit names, e.g. `digitalSignature`, `keyCertSign`. */
  keyUsage: string[];
  /** `serverAuth`, `clientAuth`, or the OID of anything else. */
  extKeyUsage: string[];
  /** From extKeyUsage; undefined when it has neither serverAuth nor clientAuth. */
  usage?: CertUsage;
  keyType: KeyType | "other";
  subjectKeyId?: string;
  authorityKeyId?: string;
  /** DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
}

// ---- DER writer ---------------------------------------------------------------------------------

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
  const y = d.getUTCFullYear();
  return y >= 1950 && y < 2050
    ? tlv(0x17, new TextEncoder().encode(iso.slice(2) + "Z"))
    : tlv(0x18, new TextEncoder().encode(iso + "Z"));
}

/** PEM text of DER bytes, 64 base64 characters a line. */
export function toPem(label: string, der: Uint8Array): string {
  let bin = "";
  for (const b of der) bin += String.fromCharCode(b);
  const b64 = btoa(bin).replace(/(.{64})/g, "$1\n").trimEnd();
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** The DER bytes inside the first PEM block of `text`. */
export function pemBody(text: string): Uint8Array {
  const m = /-----BEGIN ([^-]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  const b64 = (m ? m[2]! : text.replace(/-----[^-]+-----/g, "")).replace(/\s+/g, "");
  try {
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  } catch {
    throw new CncfdemoError("Cannot read PEM: the text is not base64 between BEGIN and END lines");
  }
}

function hex(b: ArrayBuffer | Uint8Array): string {
  return [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// ---- DER reader ---------------------------------------------------------------------------------

interface Node {
  tag: number;
  /** Offsets in the buffer: the whole element, and its content. */
  off: number;
  start: number;
  end: number;
}

class DerError extends Error {}

function readNode(b: Uint8Array, off: number, limit = b.length): Node {
  if (off + 2 > limit) throw new DerError("truncated");
  let len = b[off + 1]!;
  let hdr = 2;
  if (len & 0x80) {
    const k = len & 0x7f;
    if (k === 0 || k > 4 || off + 2 + k > limit) throw new DerError("bad length");
    len = 0;
    for (let i = 0; i < k; i++) len = len * 256 + b[off + 2 + i]!;
    hdr += k;
  }
  const end = off + hdr + len;
  if (end > limit) throw new DerError("truncated");
  return { tag: b[off]!, off, start: off + hdr, end };
}

function childrenOf(b: Uint8Array, n: Node): Node[] {
  const out: Node[] = [];
  for (let cur = n.start; cur < n.end;) {
    const c = readNode(b, cur, n.end);
    out.push(c);
    cur = c.end;
  }
  return out;
}

function expectTag(n: Node | undefined, tag: number, what: string): Node {
  if (!n || n.tag !== tag) throw new DerError(`expected ${what}`);
  return n;
}

function readOid(b: Uint8Array, n: Node): string {
  const bytes = b.subarray(n.start, n.end);
  if (bytes.length === 0) throw new DerError("empty OID");
  const first = bytes[0]!;
  const parts = [
    Math.min(Math.floor(first / 40), 2),
    first - 40 * Math.min(Math.floor(first / 40), 2),
  ];
  let v = 0;
  for (const x of bytes.subarray(1)) {
    v = v * 128 + (x & 0x7f);
    if (!(x & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join(".");
}

function readString(b: Uint8Array, n: Node): string {
  const bytes = b.subarray(n.start, n.end);
  if (n.tag === 0x1e) { // BMPString
    let s = "";
    for (let i = 0; i + 1 < bytes.length; i += 2) {
      s += String.fromCharCode(bytes[i]! * 256 + bytes[i + 1]!);
    }
    return s;
  }
  return new TextDecoder().decode(bytes);
}

function readTime(b: Uint8Array, n: Node): Date {
  const s = new TextDecoder().decode(b.subarray(n.start, n.end));
  const m = n.tag === 0x17
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
    : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) throw new DerError(`bad time ${s}`);
  let year = Number(m[1]);
  if (n.tag === 0x17) year += year >= 50 ? 1900 : 2000;
  return new Date(
    Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])),
  );
}

// ---- names, IPs ---------------------------------------------------------------------------------

const OID = {
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  rsaEncryption: "1.2.840.113549.1.1.1",
  sha256WithRsa: "1.2.840.113549.1.1.11",
  ecPublicKey: "1.2.840.10045.2.1",
  p256: "1.2.840.10045.3.1.7",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  extKeyUsage: "2.5.29.37",
  subjectKeyId: "2.5.29.14",
  authorityKeyId: "2.5.29.35",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
} as const;

/** Subject or issuer: O= first, then CN= (Go's order, as kubeadm's certificates). */
function encodeName(commonName: string, organizations: readonly string[] = []): Uint8Array {
  return seq(
    ...organizations.map((o) => set(seq(oid(OID.organization), utf8(o)))),
    set(seq(oid(OID.commonName), utf8(commonName))),
  );
}

function readName(b: Uint8Array, n: Node): DistinguishedName {
  const out: DistinguishedName = { organizations: [] };
  for (const rdn of childrenOf(b, expectTag(n, 0x30, "Name"))) {
    for (const atv of childrenOf(b, rdn)) {
      const [type, value] = childrenOf(b, atv);
      if (!type || !value) continue;
      const id = readOid(b, type);
      if (id === OID.commonName) out.commonName = readString(b, value);
      else if (id === OID.organization) out.organizations.push(readString(b, value));
    }
  }
  return out;
}

function parseIpv4(s: string): number[] | undefined {
  const parts = s.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
    return undefined;
  }
  return parts.map(Number);
}

/** The 4 or 16 bytes of an IPv4 or IPv6 address in text, or undefined when it is not one. */
export function parseIp(text: string): Uint8Array | undefined {
  const v4 = parseIpv4(text);
  if (v4) return new Uint8Array(v4);
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.split("::").length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const items = part.split(":");
    for (let i = 0; i < items.length; i++) {
      const g = items[i]!;
      if (i === items.length - 1 && g.includes(".")) {
        const tail = parseIpv4(g);
        if (!tail) return undefined;
        out.push(tail[0]! * 256 + tail[1]!, tail[2]! * 256 + tail[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const [head, tail] = text.split("::");
  const h = groups(head!);
  const t = tail === undefined ? [] : groups(tail);
  if (!h || !t) return undefined;
  let words: number[];
  if (tail === undefined) {
    if (h.length !== 8) return undefined;
    words = h;
  } else {
    if (h.length + t.length > 7) return undefined;
    words = [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  }
  return new Uint8Array(words.flatMap((w) => [w >> 8, w & 0xff]));
}

/** Text of 4 or 16 address bytes: dotted IPv4, or RFC 5952 IPv6 (lower case, longest zero run as ::). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join(".");
  if (bytes.length !== 16) return hex(bytes);
  const words = Array.from({ length: 8 }, (_, i) => bytes[2 * i]! * 256 + bytes[2 * i + 1]!);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const txt = words.map((w) => w.toString(16));
  if (best < 0) return txt.join(":");
  return `${txt.slice(0, best).join(":")}::${txt.slice(best + bestLen).join(":")}`;
}

/** The canonical text of an address (`::ffff:0:1` for `0:0:0:0:0:ffff:0:1`), or a CncfdemoError. */
export function canonicalIp(text: string): string {
  const b = parseIp(text.trim());
  if (!b) throw new CncfdemoError(`Cannot use "${text}" as an IP address: expected IPv4 or IPv6`);
  return formatIp(b);
}

function checkDnsName(name: string): void {
  if (
    !/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/
      .test(name)
  ) {
    throw new CncfdemoError(
      `Cannot put "${name}" in a certificate as a DNS name: expected letters, digits, - and dots`,
    );
  }
}

// ---- keys ---------------------------------------------------------------------------------------

const RSA_ALG = {
  name: "RSASSA-PKCS1-v1_5",
  hash: "SHA-256",
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
};
const EC_ALG = { name: "ECDSA", namedCurve: "P-256" };

async function generate(keyType: KeyType): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(
    keyType === "rsa-2048" ? RSA_ALG : EC_ALG,
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
}

async function exportPair(
  keys: CryptoKeyPair,
): Promise<{ key: string; spki: Uint8Array }> {
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return { key: toPem("PRIVATE KEY", pkcs8), spki };
}

/** The key type named by an AlgorithmIdentifier (in PKCS#8 or SubjectPublicKeyInfo). */
function keyTypeOf(b: Uint8Array, algId: Node): KeyType | "other" {
  const [alg, param] = childrenOf(b, expectTag(algId, 0x30, "AlgorithmIdentifier"));
  const id = readOid(b, expectTag(alg, 0x06, "algorithm OID"));
  if (id === OID.rsaEncryption) return "rsa-2048"; // any modulus: WebCrypto takes the size from the key
  if (id === OID.ecPublicKey && param?.tag === 0x06 && readOid(b, param) === OID.p256) {
    return "ecdsa-p256";
  }
  return "other";
}

async function importPrivateKey(pem: string): Promise<{ key: CryptoKey; type: KeyType }> {
  const der = pemBody(pem);
  let type: KeyType | "other";
  try {
    const top = childrenOf(der, expectTag(readNode(der, 0), 0x30, "PrivateKeyInfo"));
    type = keyTypeOf(der, top[1]!);
  } catch {
    throw new CncfdemoError("Cannot read the private key: it is not PKCS#8 (BEGIN PRIVATE KEY)");
  }
  if (type === "other") {
    throw new CncfdemoError(
      "Cannot use the private key: only RSA and ECDSA P-256 keys are supported",
    );
  }
  try {
    const key = await crypto.subtle.importKey(
      "pkcs8",
      der.slice(),
      type === "rsa-2048" ? { name: RSA_ALG.name, hash: "SHA-256" } : EC_ALG,
      true,
      ["sign"],
    );
    return { key, type };
  } catch (err) {
    throw new CncfdemoError(
      `Cannot import the private key: ${err instanceof Error ? err.message : err}`,
    );
  }
}

async function importPublicKey(spki: Uint8Array): Promise<{ key: CryptoKey; type: KeyType }> {
  const type = keyTypeOf(spki, childrenOf(spki, readNode(spki, 0))[0]!);
  if (type === "other") throw new DerError("unsupported public key");
  const key = await crypto.subtle.importKey(
    "spki",
    spki.slice(),
    type === "rsa-2048" ? { name: RSA_ALG.name, hash: "SHA-256" } : EC_ALG,
    false,
    ["verify"],
  );
  return { key, type };
}

async function spkiOfPrivateKey(pem: string): Promise<Uint8Array> {
  const { key, type } = await importPrivateKey(pem);
  const jwk = await crypto.subtle.exportKey("jwk", key);
  const pub: JsonWebKey = type === "rsa-2048"
    ? { kty: "RSA", n: jwk.n!, e: jwk.e! }
    : { kty: "EC", crv: "P-256", x: jwk.x!, y: jwk.y! };
  const pk = await crypto.subtle.importKey(
    "jwk",
    pub,
    type === "rsa-2048" ? { name: RSA_ALG.name, hash: "SHA-256" } : EC_ALG,
    true,
    ["verify"],
  );
  return new Uint8Array(await crypto.subtle.exportKey("spki", pk));
}

/** The public key ("PUBLIC KEY", SubjectPublicKeyInfo PEM) of a PKCS#8 private key. */
export async function publicKeyPem(privateKeyPem: string): Promise<string> {
  return toPem("PUBLIC KEY", await spkiOfPrivateKey(privateKeyPem));
}

/** A fresh key pair: `key` PKCS#8 PEM, `pub` SubjectPublicKeyInfo PEM (e.g. sa.key / sa.pub). */
export async function makeKeyPair(
  keyType: KeyType = "ecdsa-p256",
): Promise<{ key: string; pub: string }> {
  const { key, spki } = await exportPair(await generate(keyType));
  return { key, pub: toPem("PUBLIC KEY", spki) };
}

// ---- signing ------------------------------------------------------------------------------------

function sigAlgFor(type: KeyType): Uint8Array {
  return type === "rsa-2048" ? seq(oid(OID.sha256WithRsa), nul()) : seq(oid(OID.ecdsaWithSha256)); // parameters absent (RFC 5758)
}

/** WebCrypto's ECDSA signature is r‖s; X.509 wants SEQUENCE { INTEGER r, INTEGER s }. */
function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  return seq(integer(raw.subarray(0, half)), integer(raw.subarray(half)));
}

function ecdsaDerToRaw(der: Uint8Array): Uint8Array {
  const [r, s] = childrenOf(der, expectTag(readNode(der, 0), 0x30, "ECDSA signature"));
  const fixed = (n: Node | undefined) => {
    let v = der.subarray(expectTag(n, 0x02, "INTEGER").start, n!.end);
    while (v.length > 32 && v[0] === 0) v = v.subarray(1);
    if (v.length > 32) throw new DerError("ECDSA integer too long");
    const out = new Uint8Array(32);
    out.set(v, 32 - v.length);
    return out;
  };
  return concat([fixed(r), fixed(s)]);
}

async function sign(key: CryptoKey, type: KeyType, tbs: Uint8Array): Promise<Uint8Array> {
  const alg = type === "rsa-2048" ? RSA_ALG.name : { name: "ECDSA", hash: "SHA-256" };
  const sig = new Uint8Array(await crypto.subtle.sign(alg, key, tbs.slice()));
  return type === "rsa-2048" ? sig : ecdsaRawToDer(sig);
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey BIT STRING's bytes. */
async function keyId(spki: Uint8Array): Promise<Uint8Array> {
  const [, bits] = childrenOf(spki, readNode(spki, 0));
  const key = spki.subarray(bits!.start + 1, bits!.end); // past the unused-bits byte
  return new Uint8Array(await crypto.subtle.digest("SHA-1", key.slice()));
}

function serialNumber(): Uint8Array {
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, and 16 bytes long once encoded
  return serial;
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

/** keyUsage bits in DER: trailing zero bits dropped, their count in the first byte. */
function keyUsageBits(bits: number[]): Uint8Array {
  let v = 0;
  for (const bit of bits) v |= 0x80 >> bit;
  let unused = 0;
  while (unused < 7 && !(v & (1 << unused))) unused++;
  return bitString(new Uint8Array([v]), unused);
}

const KEY_USAGE_NAMES = [
  "digitalSignature",
  "nonRepudiation",
  "keyEncipherment",
  "dataEncipherment",
  "keyAgreement",
  "keyCertSign",
  "cRLSign",
  "encipherOnly",
];

function validity(now: Date, validDays: number): Uint8Array {
  const notBefore = new Date(now.getTime() - 5 * 60_000);
  const notAfter = new Date(now.getTime() + validDays * 86_400_000);
  return seq(time(notBefore), time(notAfter));
}

// ---- CA and leaves ------------------------------------------------------------------------------

/** A self-signed v3 CA certificate (basicConstraints CA:TRUE, critical) and its PKCS#8 key. */
export async function makeCa(commonName: string, opts: CaOptions = {}): Promise<Ca> {
  const keyType = opts.keyType ?? "ecdsa-p256";
  const keys = await generate(keyType);
  const { key, spki } = await exportPair(keys);
  const name = encodeName(commonName);
  const usage = keyType === "rsa-2048" ? [0, 2, 5] : [0, 5]; // digitalSignature, (keyEncipherment,) keyCertSign
  const extensions = seq(
    extension(OID.keyUsage, true, keyUsageBits(usage)),
    extension(OID.basicConstraints, true, seq(bool(true))),
    extension(OID.subjectKeyId, false, octets(await keyId(spki))),
  );
  const tbs = seq(
    explicit(0, integer(new Uint8Array([2]))),
    integer(serialNumber()),
    sigAlgFor(keyType),
    name,
    validity(opts.now ?? new Date(), opts.validDays ?? 3650),
    name,
    spki,
    explicit(3, extensions),
  );
  const sig = await sign(keys.privateKey, keyType, tbs);
  const cert = seq(tbs, sigAlgFor(keyType), bitString(sig));
  return { cert: toPem("CERTIFICATE", cert), key, spki };
}

/** A v3 leaf certificate signed by `ca`, with a fresh key (ECDSA P-256 unless asked otherwise). */
export async function issueCert(ca: CertAndKey, req: CertRequest): Promise<CertAndKey> {
  const caDer = pemBody(ca.cert);
  const caParsed = parseCert(caDer, "the CA certificate");
  if (!caParsed.info.isCa) {
    throw new CncfdemoError(
      `Cannot issue ${req.commonName}: ${caParsed.info.subject.commonName} is not a CA`,
    );
  }
  const signer = await importPrivateKey(ca.key);
  if (!equalBytes(await spkiOfPrivateKey(ca.key), caParsed.info.spki)) {
    throw new CncfdemoError(
      `Cannot issue ${req.commonName}: the CA key does not belong to the CA certificate ${caParsed.info.subject.commonName}`,
    );
  }
  const keyType = req.keyType ?? "ecdsa-p256";
  const dnsNames = req.dnsNames ?? [];
  dnsNames.forEach(checkDnsName);
  const ips = (req.ips ?? []).map((ip) => {
    const b = parseIp(ip.trim());
    if (!b) throw new CncfdemoError(`Cannot use "${ip}" as an IP address: expected IPv4 or IPv6`);
    return b;
  });
  const keys = await generate(keyType);
  const { key, spki } = await exportPair(keys);
  const caKeyId = caParsed.info.subjectKeyId
    ? Uint8Array.from(caParsed.info.subjectKeyId.match(/../g)!, (h) => parseInt(h, 16))
    : await keyId(caParsed.info.spki);
  const eku = req.usage === "server"
    ? [OID.serverAuth]
    : req.usage === "client"
    ? [OID.clientAuth]
    : [OID.serverAuth, OID.clientAuth];
  const sans = [
    ...dnsNames.map((d) => tlv(0x82, new TextEncoder().encode(d))),
    ...ips.map((b) => tlv(0x87, b)),
  ];
  const extensions = seq(
    extension(OID.keyUsage, true, keyUsageBits(keyType === "rsa-2048" ? [0, 2] : [0])),
    extension(OID.extKeyUsage, false, seq(...eku.map(oid))),
    extension(OID.basicConstraints, true, seq()),
    extension(OID.subjectKeyId, false, octets(await keyId(spki))),
    extension(OID.authorityKeyId, false, seq(tlv(0x80, caKeyId))),
    ...(sans.length ? [extension(OID.subjectAltName, false, seq(...sans))] : []),
  );
  const tbs = seq(
    explicit(0, integer(new Uint8Array([2]))),
    integer(serialNumber()),
    sigAlgFor(signer.type),
    caParsed.subjectDer, // the CA's subject, byte for byte: chain building compares the bytes
    validity(req.now ?? new Date(), req.validDays ?? 365),
    encodeName(req.commonName, req.organizations),
    spki,
    explicit(3, extensions),
  );
  const sig = await sign(signer.key, signer.type, tbs);
  const cert = seq(tbs, sigAlgFor(signer.type), bitString(sig));
  return { cert: toPem("CERTIFICATE", cert), key };
}

// ---- reading back -------------------------------------------------------------------------------

interface ParsedCert {
  info: CertInfo;
  tbs: Uint8Array;
  subjectDer: Uint8Array;
  issuerDer: Uint8Array;
  sigAlg: string;
  signature: Uint8Array;
}

function parseCert(der: Uint8Array, what = "the certificate"): ParsedCert {
  try {
    const top = expectTag(readNode(der, 0), 0x30, "Certificate");
    const [tbsNode, sigAlgNode, sigNode] = childrenOf(der, top);
    const tbsKids = childrenOf(der, expectTag(tbsNode, 0x30, "TBSCertificate"));
    let i = 0;
    let version = 1;
    if (tbsKids[0]?.tag === 0xa0) {
      const v = expectTag(childrenOf(der, tbsKids[0])[0], 0x02, "version");
      version = der[v.end - 1]! + 1;
      i = 1;
    }
    const serialNode = expectTag(tbsKids[i], 0x02, "serial");
    const issuerNode = expectTag(tbsKids[i + 2], 0x30, "issuer");
    const [nb, na] = childrenOf(der, expectTag(tbsKids[i + 3], 0x30, "validity"));
    const subjectNode = expectTag(tbsKids[i + 4], 0x30, "subject");
    const spkiNode = expectTag(tbsKids[i + 5], 0x30, "subjectPublicKeyInfo");
    const spki = der.slice(spkiNode.off, spkiNode.end);
    const info: CertInfo = {
      version,
      serial: hex(der.subarray(serialNode.start, serialNode.end)),
      subject: readName(der, subjectNode),
      issuer: readName(der, issuerNode),
      notBefore: readTime(der, nb!),
      notAfter: readTime(der, na!),
      dnsNames: [],
      ips: [],
      isCa: false,
      keyUsage: [],
      extKeyUsage: [],
      keyType: keyTypeOf(spki, childrenOf(spki, readNode(spki, 0))[0]!),
      spki,
    };
    const extWrap = tbsKids.slice(i + 6).find((n) => n.tag === 0xa3);
    const exts = extWrap
      ? childrenOf(der, expectTag(childrenOf(der, extWrap)[0], 0x30, "Extensions"))
      : [];
    for (const ext of exts) {
      const kids = childrenOf(der, ext);
      const id = readOid(der, expectTag(kids[0], 0x06, "extension OID"));
      const valueNode = expectTag(kids[kids.length - 1], 0x04, "extnValue");
      const v = der.subarray(valueNode.start, valueNode.end);
      const inner = readNode(v, 0);
      if (id === OID.subjectAltName) {
        for (const gn of childrenOf(v, inner)) {
          const bytes = v.subarray(gn.start, gn.end);
          if (gn.tag === 0x82) info.dnsNames.push(new TextDecoder().decode(bytes));
          else if (gn.tag === 0x87) info.ips.push(formatIp(bytes));
        }
      } else if (id === OID.basicConstraints) {
        const first = childrenOf(v, inner)[0];
        info.isCa = first?.tag === 0x01 && v[first.start] !== 0;
      } else if (id === OID.keyUsage) {
        const bits = v.subarray(inner.start + 1, inner.end);
        KEY_USAGE_NAMES.forEach((name, bit) => {
          if ((bits[Math.floor(bit / 8)] ?? 0) & (0x80 >> (bit % 8))) info.keyUsage.push(name);
        });
      } else if (id === OID.extKeyUsage) {
        for (const k of childrenOf(v, inner)) {
          const o = readOid(v, k);
          info.extKeyUsage.push(
            o === OID.serverAuth ? "serverAuth" : o === OID.clientAuth ? "clientAuth" : o,
          );
        }
      } else if (id === OID.subjectKeyId) {
        info.subjectKeyId = hex(v.subarray(inner.start, inner.end));
      } else if (id === OID.authorityKeyId) {
        const kid = childrenOf(v, inner).find((n) => n.tag === 0x80);
        if (kid) info.authorityKeyId = hex(v.subarray(kid.start, kid.end));
      }
    }
    const server = info.extKeyUsage.includes("serverAuth");
    const client = info.extKeyUsage.includes("clientAuth");
    if (server || client) info.usage = server && client ? "both" : server ? "server" : "client";
    const sigBits = expectTag(sigNode, 0x03, "signature");
    return {
      info,
      tbs: der.slice(tbsNode!.off, tbsNode!.end),
      subjectDer: der.slice(subjectNode.off, subjectNode.end),
      issuerDer: der.slice(issuerNode.off, issuerNode.end),
      sigAlg: readOid(der, childrenOf(der, expectTag(sigAlgNode, 0x30, "signatureAlgorithm"))[0]!),
      signature: der.slice(sigBits.start + 1, sigBits.end),
    };
  } catch (err) {
    if (err instanceof DerError || err instanceof RangeError) {
      throw new CncfdemoError(`Cannot parse ${what}: ${err.message} in the DER`);
    }
    throw err;
  }
}

/** The fields of a PEM certificate that matter for keeping it: names, SANs, dates, usages, key. */
export function certInfo(pem: string): CertInfo {
  return parseCert(pemBody(pem)).info;
}

/**
 * Whether `caPem` issued `certPem`: the issuer is the CA's subject and the signature verifies with
 * the CA's key (SHA-256 with RSA or ECDSA P-256). False for anything unreadable.
 */
export async function isIssuedBy(certPem: string, caPem: string): Promise<boolean> {
  let cert: ParsedCert;
  let ca: ParsedCert;
  try {
    cert = parseCert(pemBody(certPem));
    ca = parseCert(pemBody(caPem));
  } catch {
    return false;
  }
  if (!equalBytes(cert.issuerDer, ca.subjectDer) || !ca.info.isCa) return false;
  try {
    const { key, type } = await importPublicKey(ca.info.spki);
    if (type === "rsa-2048" && cert.sigAlg === OID.sha256WithRsa) {
      return await crypto.subtle.verify(
        RSA_ALG.name,
        key,
        cert.signature.slice(),
        cert.tbs.slice(),
      );
    }
    if (type === "ecdsa-p256" && cert.sigAlg === OID.ecdsaWithSha256) {
      return await crypto.subtle.verify(
        { name: "ECDSA", hash: "SHA-256" },
        key,
        ecdsaDerToRaw(cert.signature).slice(),
        cert.tbs.slice(),
      );
    }
    return false;
  } catch {
    return false;
  }
}

/** Whether a PKCS#8 private key belongs to a certificate (same public key). False if unreadable. */
export async function keyMatchesCert(keyPem: string, certPem: string): Promise<boolean> {
  try {
    return equalBytes(await spkiOfPrivateKey(keyPem), certInfo(certPem).spki);
  } catch {
    return false;
  }
}

/** The DER SubjectPublicKeyInfo inside a DER certificate. */
export function spkiOfCert(der: Uint8Array): Uint8Array {
  return parseCert(der).info.spki;
}
