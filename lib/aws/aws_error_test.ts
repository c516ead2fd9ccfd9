import assert from "node:assert/strict";
import { CncfdemoError } from "../errors.ts";
import { awsFailure } from "./aws_error.ts";

Deno.test("awsFailure: one line for credentials, network, denial and service errors", () => {
  const creds = Object.assign(new Error("Could not load credentials from any providers"), {
    name: "CredentialsProviderError",
  });
  assert.match(awsFailure(creds, "x").message, /^No AWS credentials found/);
  const net = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
    code: "ECONNREFUSED",
  });
  assert.match(
    awsFailure(net, "create the VPC", "eu-west-1").message,
    /^Cannot reach .* \(ECONNREFUSED\) to create the VPC/,
  );
  const denied = Object.assign(new Error("not allowed"), { name: "AccessDenied" });
  assert.match(
    awsFailure(denied, "create the IAM roles").message,
    /^AWS denied permission to create the IAM roles/,
  );
  const other = Object.assign(new Error("bad\nthing"), { name: "InvalidParameterValue" });
  assert.equal(
    awsFailure(other, "create the VPC").message,
    "Cannot create the VPC: InvalidParameterValue: bad thing",
  );
  const mine = new CncfdemoError("as is");
  assert.equal(awsFailure(mine, "x"), mine);
});
