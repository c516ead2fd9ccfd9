/**
 * Action: the cluster CA and the kubeadm bootstrap token, as SSM SecureString parameters (made
 * once; the token rotated when older than 12 h: it lives 24 h).
 */
import { GetParametersCommand, PutParameterCommand } from "@aws-sdk/client-ssm";
import { bootstrapToken, caCertHash, makeCa, pemBody, spkiOfCert } from "../pki.ts";
import type { AwsAction } from "./context.ts";

/** Rotate the bootstrap token when its parameter is older than this (the token lives 24 h). */
const TOKEN_ROTATE_MS = 12 * 3_600_000;

export const caAndToken: AwsAction = {
  name: "CA and bootstrap token",
  doing: "store the cluster CA in SSM",
  async run(ctx) {
    const { aws, names: n, options: o, facts } = ctx;
    const got = await aws.ssm.send(
      new GetParametersCommand({
        Names: [n.param.caCert, n.param.caKey, n.param.token],
        WithDecryption: true,
      }),
    );
    const byName = new Map((got.Parameters ?? []).map((p) => [p.Name!, p]));
    const put = async (name: string, value: string, description: string) => {
      await aws.ssm.send(
        new PutParameterCommand({
          Name: name,
          Value: value,
          Type: "SecureString",
          Description: `cncfdemo ${o.name}: ${description}`,
          ...(byName.has(name) ? { Overwrite: true } : { Tags: ctx.tags() }),
        }),
      );
    };
    const parts: string[] = [];
    let caCert = byName.get(n.param.caCert)?.Value;
    let caKey = byName.get(n.param.caKey)?.Value;
    if (!caCert || !caKey) {
      // Both or neither: a half-written CA (interrupted run) is replaced whole.
      const ca = await makeCa();
      await put(n.param.caKey, ca.key, "CA key");
      await put(n.param.caCert, ca.cert, "CA");
      caCert = ca.cert;
      caKey = ca.key;
      parts.push("created the CA");
    }
    facts.caCert = caCert;
    // kept for the add-ons: metrics-server's serving certificate is issued by the cluster CA
    facts.caKey = caKey;
    facts.caCertHash = await caCertHash(spkiOfCert(pemBody(caCert)));
    const tok = byName.get(n.param.token);
    const age = tok?.LastModifiedDate ? Date.now() - tok.LastModifiedDate.getTime() : Infinity;
    if (!tok?.Value || age > TOKEN_ROTATE_MS) {
      facts.token = bootstrapToken();
      await put(n.param.token, facts.token, "bootstrap token");
      parts.push(tok?.Value ? "rotated the token" : "created the token");
    } else {
      facts.token = tok.Value;
    }
    return parts.length ? parts.join(", ") : "exists";
  },
};
