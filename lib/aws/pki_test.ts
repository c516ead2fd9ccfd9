import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash, X509Certificate } from "node:crypto";
import { bootstrapToken, caCertHash, makeClusterSecrets, pemBody, spkiOfCert } from "./pki.ts";

Deno.test("the CA is a self-signed v3 CA certificate and its hash is the SPKI SHA-256", async () => {
  const s = await makeClusterSecrets();
  const cert = new X509Certificate(s.caCert);
  assert.equal(cert.ca, true);
  assert.equal(cert.subject, "CN=kubernetes");
  assert.ok(cert.verify(cert.publicKey), "self-signed");
  assert.ok(cert.checkPrivateKey((await import("node:crypto")).createPrivateKey(s.caKey)));
  const spki = cert.publicKey.export({ type: "spki", format: "der" });
  assert.equal(s.caCertHash, `sha256:${createHash("sha256").update(spki).digest("hex")}`);
  assert.deepEqual(Buffer.from(spkiOfCert(pemBody(s.caCert))), spki);
  assert.equal(await caCertHash(new Uint8Array(spki)), s.caCertHash);
  const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
  assert.ok(days > 3600 && days < 3660, `valid ${days} days`);
});

Deno.test("bootstrap tokens have kubeadm's format and differ", () => {
  const a = bootstrapToken();
  const b = bootstrapToken();
  assert.match(a, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  assert.notEqual(a, b);
});
