import assert from "node:assert/strict";
import { parseImagesCheck } from "./ctr_import.ts";

// Output of `ctr images check` (containerd v2.2.9).
const CHECK =
  `REF                          TYPE                                       DIGEST                                                                  STATUS         SIZE                UNPACKED 
ghcr.io/cncfdemo/tools:0.1.0 application/vnd.oci.image.manifest.v1+json sha256:cccad09f8e999fa8c5277ca29037b9c0faa3f98665872e017e09dc85d3815428 complete (3/3) 46.2 MiB/46.2 MiB   true
registry.k8s.io/pause:3.10.1 application/vnd.oci.image.manifest.v1+json sha256:d51fb9bd04fe2448dfb09b0d587554ffcfcca9c84bf36f6dfc807335c75a6022 incomplete (1/2) 312.6 KiB/312.6 KiB false
`;

Deno.test("parseImagesCheck: ref, digest, complete, unpacked", () => {
  const m = parseImagesCheck(CHECK);
  assert.equal(m.size, 2);
  assert.deepEqual(m.get("ghcr.io/cncfdemo/tools:0.1.0"), {
    digest: "sha256:cccad09f8e999fa8c5277ca29037b9c0faa3f98665872e017e09dc85d3815428",
    complete: true,
    unpacked: true,
  });
  assert.deepEqual(m.get("registry.k8s.io/pause:3.10.1"), {
    digest: "sha256:d51fb9bd04fe2448dfb09b0d587554ffcfcca9c84bf36f6dfc807335c75a6022",
    complete: false,
    unpacked: false,
  });
  assert.equal(parseImagesCheck("REF TYPE DIGEST STATUS SIZE UNPACKED\n").size, 0);
});
