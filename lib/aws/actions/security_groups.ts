/**
 * Action: the masters' and minions' security groups: all traffic between them, the API server
 * port from `--api-cidr`, SSH from `--ssh-cidr` (closed without it); rules that differ are
 * revoked.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  type IpPermission,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { clusterFiltersIn, tagSpec } from "../ec2_find.ts";
import { type Role, ROLES } from "../names.ts";
import type { AwsAction, Facts } from "./context.ts";
import { Tally } from "./converge.ts";

/** Security group rules as comparable keys. */
function ruleKeys(perms: readonly IpPermission[] | undefined): Set<string> {
  const keys = new Set<string>();
  for (const p of perms ?? []) {
    const port = p.IpProtocol === "-1" ? "all" : `${p.IpProtocol}:${p.FromPort}-${p.ToPort}`;
    for (const r of p.IpRanges ?? []) keys.add(`${port}|cidr|${r.CidrIp}`);
    for (const g of p.UserIdGroupPairs ?? []) keys.add(`${port}|sg|${g.GroupId}`);
  }
  return keys;
}

function keyToPermission(key: string): IpPermission {
  const [port, kind, target] = key.split("|") as [string, string, string];
  const base: IpPermission = port === "all" ? { IpProtocol: "-1" } : (() => {
    const [proto, range] = port.split(":") as [string, string];
    const [from, to] = range.split("-").map(Number);
    return { IpProtocol: proto, FromPort: from!, ToPort: to! };
  })();
  return kind === "cidr"
    ? { ...base, IpRanges: [{ CidrIp: target }] }
    : { ...base, UserIdGroupPairs: [{ GroupId: target }] };
}

export const securityGroups: AwsAction = {
  name: "Security groups",
  doing: "create the security groups",
  async run(ctx) {
    const { aws, names: n, options: o } = ctx;
    const vpcId = ctx.need("vpcId");
    const found = await aws.ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: clusterFiltersIn(o.name, vpcId),
      }),
    );
    const t = new Tally();
    const sg = {} as Facts["sg"];
    const current = new Map<Role, IpPermission[] | undefined>();
    for (const r of ROLES) {
      const g = found.SecurityGroups?.find((x) => x.GroupName === n.securityGroup[r]);
      if (g) {
        sg[r] = g.GroupId!;
        current.set(r, g.IpPermissions);
        continue;
      }
      const made = await aws.ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: n.securityGroup[r],
          Description: `cncfdemo ${o.name} ${r}`,
          VpcId: vpcId,
          TagSpecifications: tagSpec("security-group", o.name, {
            Name: n.securityGroup[r],
            Role: r,
          }),
        }),
      );
      sg[r] = made.GroupId!;
      t.created++;
    }
    ctx.facts.sg = sg;
    let changed = 0;
    for (const r of ROLES) {
      const want = new Set<string>([
        `all|sg|${sg.masters}`,
        `all|sg|${sg.minions}`,
        ...(r === "masters" ? [`tcp:6443-6443|cidr|${o.apiCidr}`] : []),
        ...(o.sshCidr ? [`tcp:22-22|cidr|${o.sshCidr}`] : []),
      ]);
      const have = ruleKeys(current.get(r));
      const add = [...want].filter((k) => !have.has(k));
      const drop = [...have].filter((k) => !want.has(k));
      if (add.length) {
        await aws.ec2.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: sg[r],
            IpPermissions: add.map(keyToPermission),
          }),
        );
      }
      if (drop.length) {
        await aws.ec2.send(
          new RevokeSecurityGroupIngressCommand({
            GroupId: sg[r],
            IpPermissions: drop.map(keyToPermission),
          }),
        );
      }
      changed += add.length + drop.length;
    }
    if (changed && t.created === 0) t.updated = changed;
    return `API from ${o.apiCidr}, SSH ${o.sshCidr ? `from ${o.sshCidr}` : "closed"}: ${t}`;
  },
};
