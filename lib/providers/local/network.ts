/**
 * The node's network, kept on this machine: a bridge holding the node's address (the first of the
 * pod CIDR), the whole service CIDR routed onto that bridge (so a Service address without a rule
 * never follows the default route out), forwarding and bridged netfilter on (recorded first), and
 * an nftables table of our own that lets pods reach the pod CIDR, the service CIDR and the node's
 * address — and drops (and counts) everything else.
 */
import { run } from "../../run_program.ts";
import { log } from "../../log.ts";
import { bridgeAlias, readSysctl, writeSysctl } from "./host.ts";
import {
  BRIDGE,
  GUARD_TABLE,
  KUBE_PROXY_TABLES,
  type LocalLayout,
  type LocalNetwork,
} from "./layout.ts";

/** The guard table: what pods may reach. Replaced whole on every run (`nft -f` is atomic). */
export function guardRuleset(net: LocalNetwork): string {
  const allowed = `{ ${net.podCidr.text}, ${net.serviceCidr.text} }`;
  return `table inet ${GUARD_TABLE}
delete table inet ${GUARD_TABLE}
table inet ${GUARD_TABLE} {
  comment "cncfdemo: pods on ${BRIDGE} reach the pod CIDR, the service CIDR and the node only"
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "${BRIDGE}" meta nfproto ipv6 counter drop
    iifname "${BRIDGE}" ip daddr != ${allowed} counter drop
    oifname "${BRIDGE}" ip saddr != ${allowed} counter drop
  }
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "${BRIDGE}" meta nfproto ipv6 counter drop
    iifname "${BRIDGE}" ip daddr != ${net.nodeIp} counter drop
  }
}
`;
}

interface Link {
  ifname: string;
  master?: string;
  ifalias?: string;
  operstate?: string;
}

async function links(): Promise<Link[]> {
  const r = await run("ip", ["-j", "link", "show"]);
  return JSON.parse(r.stdout || "[]") as Link[];
}

/** Creates or converges the bridge, its address, the service route, sysctls and the guard. */
export async function setUpNetwork(layout: LocalLayout, net: LocalNetwork): Promise<string[]> {
  const changed: string[] = [];
  const all = await links();
  if (!all.some((l) => l.ifname === BRIDGE)) {
    await run("ip", ["link", "add", BRIDGE, "type", "bridge"]);
    changed.push(`bridge ${BRIDGE}`);
  }
  await run("ip", ["link", "set", "dev", BRIDGE, "alias", bridgeAlias(layout)]);
  const addr = `${net.nodeIp}/${net.podCidr.prefix}`;
  const shown = await run("ip", ["-j", "-4", "addr", "show", "dev", BRIDGE]);
  const have =
    (JSON.parse(shown.stdout || "[]") as { addr_info?: { local: string; prefixlen: number }[] }[])
      .flatMap((l) => l.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`);
  for (const other of have.filter((a) => a !== addr)) {
    await run("ip", ["addr", "del", other, "dev", BRIDGE]);
  }
  if (!have.includes(addr)) {
    await run("ip", ["addr", "add", addr, "dev", BRIDGE]);
    changed.push(`address ${addr}`);
  }
  await run("ip", ["link", "set", "dev", BRIDGE, "up"]);
  const route = await run("ip", ["-4", "route", "show", net.serviceCidr.text, "dev", BRIDGE]);
  if (!route.stdout.trim()) {
    await run("ip", ["route", "replace", net.serviceCidr.text, "dev", BRIDGE, "scope", "link"]);
    changed.push(`route ${net.serviceCidr.text}`);
  }
  for (
    const [key, value] of [
      ["net.ipv4.ip_forward", "1"],
      ["net.bridge.bridge-nf-call-iptables", "1"],
    ] as const
  ) {
    if ((await readSysctl(key)) !== value) {
      await writeSysctl(key, value);
      changed.push(`${key}=${value}`);
    }
  }
  const before = await run("nft", ["list", "table", "inet", GUARD_TABLE], { allowFailure: true });
  await run("nft", ["-f", "-"], { stdin: guardRuleset(net) });
  if (before.code !== 0) changed.push(`nftables table inet ${GUARD_TABLE}`);
  return changed;
}

/** Deletes the bridge (and every veth still attached to it), the guard and kube-proxy's tables. */
export async function tearDownNetwork(): Promise<string[]> {
  const removed: string[] = [];
  for (const l of await links()) {
    if (l.master === BRIDGE) {
      await run("ip", ["link", "del", l.ifname], { allowFailure: true });
      removed.push(l.ifname);
    }
  }
  const del = await run("ip", ["link", "del", BRIDGE], { allowFailure: true });
  if (del.code === 0) removed.push(`bridge ${BRIDGE} (and its route)`);
  for (const [family, table] of [["inet", GUARD_TABLE], ...KUBE_PROXY_TABLES] as const) {
    const r = await run("nft", ["delete", "table", family, table], { allowFailure: true });
    if (r.code === 0) removed.push(`nftables table ${family} ${table}`);
    else if (!/No such file|does not exist/i.test(r.stderr)) {
      log.debug(`nft delete table ${family} ${table}: ${r.stderr.trim()}`);
    }
  }
  return removed;
}

/** Packets the guard dropped so far (forward + input), for tests and diagnostics. */
export async function guardDrops(): Promise<number> {
  const r = await run("nft", ["-j", "list", "table", "inet", GUARD_TABLE], { allowFailure: true });
  if (r.code !== 0) return 0;
  let packets = 0;
  const doc = JSON.parse(r.stdout) as {
    nftables: { rule?: { expr: { counter?: { packets: number } }[] } }[];
  };
  for (const item of doc.nftables) {
    for (const e of item.rule?.expr ?? []) packets += e.counter?.packets ?? 0;
  }
  return packets;
}
