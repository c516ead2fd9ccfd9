// Adds each shard replica set to the cluster through mongos, once: safe to run again.
// Env: SHARDS ("rs1/host:port,rs2/host:port").
const wanted = process.env.SHARDS.split(",");
const existing = new Set(db.adminCommand({ listShards: 1 }).shards.map((s) => s._id));
for (const spec of wanted) {
  const id = spec.split("/")[0];
  if (existing.has(id)) {
    print(`shard ${id} is already added`);
    continue;
  }
  const res = db.adminCommand({ addShard: spec, name: id });
  if (res.ok !== 1) throw new Error(`addShard ${spec}: ${JSON.stringify(res)}`);
  print(`shard ${id} added`);
}
