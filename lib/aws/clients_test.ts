import assert from "node:assert/strict";
import { ApiCalls } from "./clients.ts";

Deno.test("ApiCalls counts per operation and summarises per service", () => {
  const c = new ApiCalls();
  c.add("EC2", "CreateVpc");
  c.add("EC2", "CreateVpc");
  c.add("IAM", "GetRole");
  assert.equal(c.total, 3);
  assert.equal(c.summary(), "3 AWS API calls (EC2 2, IAM 1)");
  assert.deepEqual(c.details(), ["EC2.CreateVpc 2", "IAM.GetRole 1"]);
});
