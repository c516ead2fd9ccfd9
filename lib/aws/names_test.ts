import assert from "node:assert/strict";
import { clusterNames, regionCode } from "./names.ts";
import { AWS_REGIONS } from "./regions.ts";

Deno.test("region codes are distinct for every known region, and IAM names fit 64 characters", () => {
  const codes = AWS_REGIONS.map(regionCode);
  assert.equal(new Set(codes).size, AWS_REGIONS.length, codes.join(" "));
  assert.equal(regionCode("us-east-1"), "use1");
  assert.equal(regionCode("ap-southeast-2"), "apse2");
  assert.equal(regionCode("us-gov-west-1"), "usgw1");
  const longest = "a".repeat(40);
  for (const region of AWS_REGIONS) {
    const n = clusterNames(longest, region);
    for (const name of Object.values(n.role)) assert.ok(name.length <= 64, name);
    assert.ok(n.iamPath.length <= 512, n.iamPath);
  }
});

Deno.test("the same cluster name in two regions has different global names", () => {
  const a = clusterNames("demo", "us-east-1");
  const b = clusterNames("demo", "eu-west-1");
  assert.notEqual(a.role.masters, b.role.masters);
  assert.notEqual(a.profile.minions, b.profile.minions);
  assert.notEqual(a.iamPath, b.iamPath);
  assert.notEqual(a.zoneComment, b.zoneComment);
  // regional resources keep their names
  assert.equal(a.group.masters, b.group.masters);
  assert.equal(a.zone, b.zone);
});
