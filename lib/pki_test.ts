import assert from "node:assert/strict";
import { resolveBinaries, VERSIONS } from "./binaries.ts";
import { CncfdemoError } from "./errors.ts";
import {
  canonicalIp,
  certInfo,
  formatIp,
  isIssuedBy,
  issueCert,
  keyMatchesCert,
  type KeyType,
  makeCa,
  makeKeyPair,
  parseIp,
  pemBody,
  publicKeyPem,
  toPem,
} from "./pki.ts";
import { run } from "./run_program.ts";
import { withTimeout } from "./wait.ts";

const OPENSSL = { installHint: "apt-get install openssl" };

async function withDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cncfdemo-pki-" });
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function openssl(...args: string[]): Promise<string> {
  return (await run("openssl", args, OPENSSL)).stdout;
}

/** Whether OpenSSL verifies `leaf` against `ca` (optionally for a purpose: sslserver, sslclient). */
async function opensslVerifies(dir: string, ca: string, leaf: string, purpose?: string) {
  await Deno.writeTextFile(`${dir}/v-ca.crt`, ca);
  await Deno.writeTextFile(`${dir}/v-leaf.crt`, leaf);
  const r = await run("openssl", [
    "verify",
    ...(purpose ? ["-purpose", purpose] : []),
    "-CAfile",
    `${dir}/v-ca.crt`,
    `${dir}/v-leaf.crt`,
  ], { ...OPENSSL, allowFailure: true });
  return r.code === 0 && r.stdout.includes(": OK");
}

/**
 * A TLS handshake on 127.0.0.1: Deno's server with `server`'s certificate, a client that trusts
 * `caCerts` and checks the certificate against `name`. "ok" (the server's first bytes) or the
 * client's error.
 */
async function handshake(
  server: { cert: string; key: string },
  caCerts: string[],
  name: string,
): Promise<string> {
  const listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, ...server });
  const served = (async () => {
    const conn = await listener.accept();
    try {
      await conn.handshake();
      await conn.write(new TextEncoder().encode("ok"));
    } catch {
      // the client refused the certificate
    } finally {
      conn.close();
    }
  })();
  try {
    return await withTimeout(
      (async () => {
        const tcp = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
        const tls = await Deno.startTls(tcp, { hostname: name, caCerts });
        try {
          await tls.handshake();
          const buf = new Uint8Array(2);
          const n = await tls.read(buf);
          return new TextDecoder().decode(buf.subarray(0, n ?? 0));
        } catch (err) {
          return err instanceof Error ? err.message : String(err);
        } finally {
          tls.close();
        }
      })(),
      10_000,
      `TLS handshake with ${name} on 127.0.0.1`,
    );
  } finally {
    await withTimeout(served, 10_000, "the TLS server to finish").finally(() => listener.close());
  }
}

for (const keyType of ["ecdsa-p256", "rsa-2048"] as KeyType[]) {
  Deno.test(`a ${keyType} CA is a self-signed v3 CA that OpenSSL accepts`, async () => {
    await withDir(async (dir) => {
      const ca = await makeCa("test-ca", { keyType });
      await Deno.writeTextFile(`${dir}/ca.crt`, ca.cert);
      await Deno.writeTextFile(`${dir}/ca.key`, ca.key);
      const text = await openssl("x509", "-noout", "-text", "-in", `${dir}/ca.crt`);
      assert.match(text, /Version: 3 \(0x2\)/);
      assert.match(text, /Basic Constraints: critical\s+CA:TRUE/);
      assert.match(text, /Key Usage: critical\s+Digital Signature,.*Certificate Sign/);
      assert.match(text, /Subject: CN = test-ca/);
      assert.match(text, keyType === "rsa-2048" ? /rsaEncryption/ : /id-ecPublicKey[\s\S]*P-256/);
      assert.ok(await opensslVerifies(dir, ca.cert, ca.cert), "self-signed chain verifies");
      await openssl("pkey", "-in", `${dir}/ca.key`, "-noout");
      const info = certInfo(ca.cert);
      assert.equal(info.isCa, true);
      assert.equal(info.keyType, keyType);
      assert.equal(info.subject.commonName, "test-ca");
      assert.deepEqual(info.issuer, info.subject);
      const days = (info.notAfter.getTime() - Date.now()) / 86_400_000;
      assert.ok(days > 3649 && days < 3651, `valid ${days} days`);
      assert.ok(await isIssuedBy(ca.cert, ca.cert));
      assert.ok(await keyMatchesCert(ca.key, ca.cert));
    });
  });
}

Deno.test("a leaf carries its subject, SANs (DNS, IPv4, IPv6), usages and key identifiers", async () => {
  await withDir(async (dir) => {
    const ca = await makeCa("test-ca");
    const leaf = await issueCert(ca, {
      commonName: "kube-apiserver",
      organizations: ["team-a", "team-b"],
      dnsNames: ["kubernetes.default.svc", "localhost"],
      ips: ["127.0.0.1", "::1", "2001:DB8:0:0:0:0:0:10"],
      usage: "server",
    });
    await Deno.writeTextFile(`${dir}/leaf.crt`, leaf.cert);
    await Deno.writeTextFile(`${dir}/leaf.key`, leaf.key);
    const text = await openssl("x509", "-noout", "-text", "-in", `${dir}/leaf.crt`);
    assert.match(text, /Version: 3 \(0x2\)/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(text, /Subject: O = team-a, O = team-b, CN = kube-apiserver/);
    assert.match(text, /Issuer: CN = test-ca/);
    assert.match(text, /Key Usage: critical\s+Digital Signature\n/);
    assert.match(text, /Extended Key Usage: \s*\n\s+TLS Web Server Authentication\n/);
    assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
    assert.match(
      text,
      /DNS:kubernetes.default.svc, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:2001:DB8:0:0:0:0:0:10\n/,
    );
    const info = certInfo(leaf.cert);
    const caInfo = certInfo(ca.cert);
    assert.equal(info.authorityKeyId, caInfo.subjectKeyId);
    assert.match(
      text,
      new RegExp(
        `Authority Key Identifier: \\s*\\n\\s+(keyid:)?${
          caInfo.subjectKeyId!.toUpperCase().match(/../g)!.join(":")
        }`,
      ),
    );
    assert.match(text, /Subject Key Identifier/);
    // 16 random bytes, positive
    assert.equal(info.serial.length, 32);
    assert.ok(parseInt(info.serial.slice(0, 2), 16) < 0x80);
    assert.deepEqual(info.subject, {
      commonName: "kube-apiserver",
      organizations: ["team-a", "team-b"],
    });
    assert.deepEqual(info.issuer, { commonName: "test-ca", organizations: [] });
    assert.deepEqual(info.dnsNames, ["kubernetes.default.svc", "localhost"]);
    assert.deepEqual(info.ips, ["127.0.0.1", "::1", "2001:db8::10"]);
    assert.deepEqual(info.extKeyUsage, ["serverAuth"]);
    assert.equal(info.usage, "server");
    assert.equal(info.isCa, false);
    const days = (info.notAfter.getTime() - Date.now()) / 86_400_000;
    assert.ok(days > 364 && days < 366, `valid ${days} days`);

    assert.ok(await opensslVerifies(dir, ca.cert, leaf.cert, "sslserver"));
    assert.ok(!(await opensslVerifies(dir, ca.cert, leaf.cert, "sslclient")), "server only");
    assert.ok(!(await opensslVerifies(dir, (await makeCa("test-ca")).cert, leaf.cert)));
    // the key parses, and is the certificate's
    await openssl("pkey", "-in", `${dir}/leaf.key`, "-noout");
    assert.equal(
      await openssl("x509", "-noout", "-pubkey", "-in", `${dir}/leaf.crt`),
      await openssl("pkey", "-pubout", "-in", `${dir}/leaf.key`),
    );
    assert.equal(await publicKeyPem(leaf.key), toPem("PUBLIC KEY", info.spki));
  });
});

Deno.test("client and server+client leaves have the matching extKeyUsage; RSA leaves add keyEncipherment", async () => {
  await withDir(async (dir) => {
    const ca = await makeCa("test-ca", { keyType: "rsa-2048" });
    const client = await issueCert(ca, {
      commonName: "system:node:n1",
      organizations: ["system:nodes"],
      usage: "client",
    });
    const both = await issueCert(ca, {
      commonName: "etcd",
      usage: "both",
      dnsNames: ["localhost"],
    });
    const rsa = await issueCert(ca, {
      commonName: "r",
      usage: "server",
      keyType: "rsa-2048",
      validDays: 30,
    });
    assert.deepEqual(certInfo(client.cert).extKeyUsage, ["clientAuth"]);
    assert.deepEqual(certInfo(client.cert).dnsNames, []);
    assert.ok(await opensslVerifies(dir, ca.cert, client.cert, "sslclient"));
    assert.ok(!(await opensslVerifies(dir, ca.cert, client.cert, "sslserver")));
    assert.equal(certInfo(both.cert).usage, "both");
    assert.ok(await opensslVerifies(dir, ca.cert, both.cert, "sslclient"));
    assert.ok(await opensslVerifies(dir, ca.cert, both.cert, "sslserver"));
    assert.deepEqual(certInfo(rsa.cert).keyUsage, ["digitalSignature", "keyEncipherment"]);
    assert.equal(certInfo(rsa.cert).keyType, "rsa-2048");
    assert.ok(await opensslVerifies(dir, ca.cert, rsa.cert, "sslserver"));
    await Deno.writeTextFile(`${dir}/rsa.crt`, rsa.cert);
    const text = await openssl("x509", "-noout", "-text", "-in", `${dir}/rsa.crt`);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
    assert.match(text, /Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
    assert.doesNotMatch(text, /Subject Alternative Name/);
    const days = (certInfo(rsa.cert).notAfter.getTime() - Date.now()) / 86_400_000;
    assert.ok(days > 29 && days < 31);
  });
});

Deno.test("isIssuedBy checks the signature, not just the names", async () => {
  const ca = await makeCa("same-name");
  const impostor = await makeCa("same-name");
  const leaf = await issueCert(ca, { commonName: "x", usage: "client" });
  assert.equal(await isIssuedBy(leaf.cert, ca.cert), true);
  assert.equal(await isIssuedBy(leaf.cert, impostor.cert), false);
  assert.equal(await isIssuedBy(leaf.cert, leaf.cert), false, "a leaf is no CA");
  // one bit flipped in the signed part (the last byte of the SPKI, inside tbsCertificate)
  const der = pemBody(leaf.cert);
  const spki = certInfo(leaf.cert).spki;
  const at = der.findIndex((_, i) => spki.every((b, j) => der[i + j] === b)) + spki.length - 1;
  const tampered = der.slice();
  tampered[at] = tampered[at]! ^ 1;
  assert.equal(await isIssuedBy(toPem("CERTIFICATE", tampered), ca.cert), false);
  assert.equal(await isIssuedBy("not a certificate", ca.cert), false);
  // an RSA CA signing an ECDSA leaf, both ways round
  const rsaCa = await makeCa("rsa", { keyType: "rsa-2048" });
  assert.ok(
    await isIssuedBy((await issueCert(rsaCa, { commonName: "e", usage: "both" })).cert, rsaCa.cert),
  );
  assert.equal(await keyMatchesCert(leaf.key, ca.cert), false);
  assert.equal(await keyMatchesCert(leaf.key, leaf.cert), true);
});

Deno.test("issueCert refuses a non-CA, a CA key that is not the CA's, and bad SANs", async () => {
  const ca = await makeCa("test-ca");
  const other = await makeCa("other");
  const leaf = await issueCert(ca, { commonName: "x", usage: "client" });
  await assert.rejects(issueCert(leaf, { commonName: "y", usage: "client" }), /is not a CA/);
  await assert.rejects(
    issueCert({ cert: ca.cert, key: other.key }, { commonName: "y", usage: "client" }),
    /CA key does not belong/,
  );
  await assert.rejects(
    issueCert(ca, { commonName: "y", usage: "server", ips: ["10.0.0.256"] }),
    (err) => err instanceof CncfdemoError && /"10.0.0.256" as an IP address/.test(err.message),
  );
  await assert.rejects(
    issueCert(ca, { commonName: "y", usage: "server", dnsNames: ["bad name"] }),
    /"bad name" in a certificate as a DNS name/,
  );
  assert.throws(
    () => certInfo("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
    CncfdemoError,
  );
  assert.throws(() => certInfo("garbage!"), CncfdemoError);
});

Deno.test("makeKeyPair and publicKeyPem give the SPKI that OpenSSL derives", async () => {
  await withDir(async (dir) => {
    for (const keyType of ["ecdsa-p256", "rsa-2048"] as KeyType[]) {
      const pair = await makeKeyPair(keyType);
      await Deno.writeTextFile(`${dir}/k.key`, pair.key);
      assert.equal(await openssl("pkey", "-pubout", "-in", `${dir}/k.key`), pair.pub);
      assert.equal(await publicKeyPem(pair.key), pair.pub);
      assert.match(pair.key, /^-----BEGIN PRIVATE KEY-----\n/);
      assert.match(pair.pub, /^-----BEGIN PUBLIC KEY-----\n/);
    }
    // a key OpenSSL made (EC, PKCS#8) reads too
    await openssl(
      "genpkey",
      "-algorithm",
      "EC",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-out",
      `${dir}/o.key`,
    );
    assert.equal(
      await publicKeyPem(await Deno.readTextFile(`${dir}/o.key`)),
      await openssl("pkey", "-pubout", "-in", `${dir}/o.key`),
    );
    await assert.rejects(
      publicKeyPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
      CncfdemoError,
    );
  });
});

Deno.test("IP addresses: parsed and printed canonically (RFC 5952)", () => {
  const cases: [string, string][] = [
    ["10.96.0.1", "10.96.0.1"],
    ["::1", "::1"],
    ["::", "::"],
    ["2001:DB8:0:0:0:0:0:10", "2001:db8::10"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8::1:0", "2001:db8::1:0"],
    ["fe80::", "fe80::"],
    ["1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"],
    ["::ffff:10.0.0.1", "::ffff:a00:1"],
    ["fd00:10:96::1", "fd00:10:96::1"],
  ];
  for (const [text, canon] of cases) assert.equal(canonicalIp(text), canon, text);
  for (
    const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "g::1",
      "fe80::1%eth0",
      "localhost",
    ]
  ) {
    assert.equal(parseIp(bad), undefined, bad);
  }
  assert.equal(parseIp("1:2:3:4:5:6:7::")?.length, 16);
  assert.equal(formatIp(new Uint8Array([127, 0, 0, 1])), "127.0.0.1");
  assert.throws(() => canonicalIp("nope"), CncfdemoError);
});

Deno.test("rustls (Deno's TLS) accepts a leaf for its SANs, and only with the issuing CA", async () => {
  const ca = await makeCa("test-ca");
  const other = await makeCa("test-ca"); // the same name: only the signature tells them apart
  const server = await issueCert(ca, {
    commonName: "server",
    dnsNames: ["api.example.test"],
    ips: ["127.0.0.1", "10.96.0.1"],
    usage: "server",
  });
  assert.equal(await handshake(server, [ca.cert], "127.0.0.1"), "ok");
  assert.equal(await handshake(server, [ca.cert], "10.96.0.1"), "ok");
  assert.equal(await handshake(server, [ca.cert], "api.example.test"), "ok");
  assert.match(await handshake(server, [other.cert], "127.0.0.1"), /UnknownIssuer|BadSignature/);
  assert.match(await handshake(server, [ca.cert], "other.example.test"), /not valid for name/);
  assert.match(await handshake(server, [ca.cert], "10.96.0.2"), /not valid for name/);
  // a client-only certificate is no server certificate
  const clientOnly = await issueCert(ca, { commonName: "c", ips: ["127.0.0.1"], usage: "client" });
  assert.match(
    await handshake(clientOnly, [ca.cert], "127.0.0.1"),
    /does not allow extended key usage for server authentication/,
  );
});

Deno.test("certInfo and isIssuedBy read what OpenSSL makes", async () => {
  await withDir(async (dir) => {
    for (
      const alg of [["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"], [
        "-newkey",
        "rsa:2048",
      ]]
    ) {
      await openssl(
        "req",
        "-x509",
        ...alg,
        "-nodes",
        "-days",
        "30",
        "-subj",
        "/O=Example Org/CN=osl-ca",
        "-keyout",
        `${dir}/ca.key`,
        "-out",
        `${dir}/ca.crt`,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
      );
      await openssl(
        "req",
        "-new",
        ...alg,
        "-nodes",
        "-subj",
        "/O=g1/O=g2/CN=osl-leaf",
        "-keyout",
        `${dir}/leaf.key`,
        "-out",
        `${dir}/leaf.csr`,
      );
      await Deno.writeTextFile(
        `${dir}/ext.cnf`,
        "subjectAltName=DNS:a.example,IP:10.0.0.1,IP:fd00::1\nextendedKeyUsage=serverAuth,clientAuth\n",
      );
      await openssl(
        "x509",
        "-req",
        "-in",
        `${dir}/leaf.csr`,
        "-CA",
        `${dir}/ca.crt`,
        "-CAkey",
        `${dir}/ca.key`,
        "-days",
        "10",
        "-extfile",
        `${dir}/ext.cnf`,
        "-out",
        `${dir}/leaf.crt`,
      );
      const ca = await Deno.readTextFile(`${dir}/ca.crt`);
      const leaf = await Deno.readTextFile(`${dir}/leaf.crt`);
      const info = certInfo(leaf);
      assert.deepEqual(info.subject, { commonName: "osl-leaf", organizations: ["g1", "g2"] });
      assert.deepEqual(info.issuer, { commonName: "osl-ca", organizations: ["Example Org"] });
      assert.deepEqual(info.dnsNames, ["a.example"]);
      assert.deepEqual(info.ips, ["10.0.0.1", "fd00::1"]);
      assert.equal(info.usage, "both");
      assert.equal(certInfo(ca).isCa, true);
      assert.ok(await isIssuedBy(leaf, ca), alg.join(" "));
      assert.ok(await keyMatchesCert(await Deno.readTextFile(`${dir}/leaf.key`), leaf));
      const days = (info.notAfter.getTime() - Date.now()) / 86_400_000;
      assert.ok(days > 9 && days < 11);
      // and our CA signs for OpenSSL's CSR's key just as well
      const ours = await issueCert({ cert: ca, key: await Deno.readTextFile(`${dir}/ca.key`) }, {
        commonName: "ours",
        usage: "client",
      });
      assert.ok(await opensslVerifies(dir, ca, ours.cert, "sslclient"), alg.join(" "));
    }
  });
});

Deno.test("kubeadm (Go's crypto/x509) signs with our ECDSA CA, and certInfo reads what it made", async () => {
  const { paths } = await resolveBinaries(["kubeadm"]);
  await withDir(async (dir) => {
    const ca = await makeCa("kubernetes");
    await Deno.writeTextFile(`${dir}/ca.crt`, ca.cert);
    await Deno.writeTextFile(`${dir}/ca.key`, ca.key);
    await run(paths.kubeadm, [
      "init",
      "phase",
      "certs",
      "apiserver",
      "--cert-dir",
      dir,
      "--kubernetes-version",
      VERSIONS.kubernetes,
      "--apiserver-advertise-address",
      "10.88.0.1",
      "--service-cidr",
      "10.96.0.0/12",
      "--apiserver-cert-extra-sans",
      "api.example.test,fd00::1",
    ]);
    const cert = await Deno.readTextFile(`${dir}/apiserver.crt`);
    const info = certInfo(cert);
    assert.ok(await isIssuedBy(cert, ca.cert), "kubeadm's apiserver.crt is signed by our CA");
    assert.equal(info.subject.commonName, "kube-apiserver");
    assert.equal(info.usage, "server");
    for (const name of ["kubernetes.default.svc.cluster.local", "api.example.test"]) {
      assert.ok(info.dnsNames.includes(name), `${name} in ${info.dnsNames}`);
    }
    for (const ip of ["10.96.0.1", "10.88.0.1", "fd00::1"]) {
      assert.ok(info.ips.includes(ip), `${ip} in ${info.ips}`);
    }
    assert.equal(info.authorityKeyId, certInfo(ca.cert).subjectKeyId);
  });
});
