import assert from "node:assert/strict";
import { cidrFlag, cidrsOverlap, nthAddress, parseCidr } from "./cidr.ts";
import { parseFlags } from "./flags.ts";
import { UsageError } from "./errors.ts";

Deno.test("parseCidr accepts canonical blocks and bare addresses", () => {
  assert.equal(parseCidr("203.0.113.0/24")?.text, "203.0.113.0/24");
  assert.equal(parseCidr("203.0.113.7")?.text, "203.0.113.7/32");
  assert.equal(parseCidr("0.0.0.0/0")?.text, "0.0.0.0/0");
});

Deno.test("parseCidr rejects bad octets, prefixes and host bits", () => {
  for (
    const bad of [
      "300.1.1.1/8",
      "1.2.3/8",
      "1.2.3.4/33",
      "10.1.2.3/8",
      "01.2.3.4/32",
      "a.b.c.d/8",
      "",
    ]
  ) {
    assert.equal(parseCidr(bad), undefined, bad);
  }
});

Deno.test("cidrFlag gives the one-line usage error of the project", () => {
  const cmd = { name: "x", summary: "x" };
  assert.throws(
    () => parseFlags(cmd, { "api-cidr": cidrFlag("API") }, ["--api-cidr", "300.1.1.1/8"]),
    (err) =>
      err instanceof UsageError &&
      err.message ===
        'Cannot parse --api-cidr "300.1.1.1/8": expected an IPv4 CIDR like 203.0.113.0/24',
  );
  const ok = parseFlags(cmd, { "api-cidr": cidrFlag("API") }, ["--api-cidr", "198.51.100.9"]);
  assert.equal(ok.apiCidr, "198.51.100.9/32");
});

Deno.test("cidrsOverlap, nthAddress", () => {
  const pods = parseCidr("10.244.0.0/16")!;
  assert.equal(cidrsOverlap(pods, parseCidr("10.244.3.0/24")!), true);
  assert.equal(cidrsOverlap(pods, parseCidr("10.0.0.0/8")!), true);
  assert.equal(cidrsOverlap(pods, parseCidr("10.96.0.0/16")!), false);
  assert.equal(cidrsOverlap(pods, parseCidr("10.245.0.0/16")!), false);
  assert.equal(nthAddress(pods, 1), "10.244.0.1");
  assert.equal(nthAddress(parseCidr("10.96.0.0/12")!, 10), "10.96.0.10");
  assert.equal(nthAddress(parseCidr("192.168.1.0/24")!, 256 - 2), "192.168.1.254");
  assert.throws(() => nthAddress(parseCidr("192.168.1.0/30")!, 4), RangeError);
});
