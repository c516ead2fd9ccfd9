import assert from "node:assert/strict";
import { parallel, runSteps, sequence, type Step } from "../steps.ts";
import { awsExisted, bootstrapFacts, bootstrapRecord, phasesOf, subtree } from "./records.ts";
import { modelOfContext } from "./schema.ts";

/** A clock the test moves by hand: each step "takes" the time it adds. */
function fakeClock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

const quiet = { write: () => {}, interactive: false, summary: false } as const;

Deno.test("records: the step runner's timeline carries each step's start; phases keep it, with generic keys", async () => {
  const clock = fakeClock(1_000);
  const take = (name: string, ms: number): Step => ({
    name,
    run: () => Promise.resolve(clock.advance(ms)),
  });
  const tree = await runSteps([
    take(`Start control plane "c1"`, 300),
    parallel("Start", [sequence("Control plane", [take("etcd", 100), take("apiserver", 50)])]),
    take("Merge kube context sim-c1", 20),
  ], { ...quiet, now: clock.now });
  const phases = phasesOf(tree, { name: "c1", context: "sim-c1" });
  assert.deepEqual(
    phases.map((p) => [p.key, p.depth, p.start_ms, p.ms, p.group]),
    [
      ['Start control plane "<name>"', 0, 1_000, 300, false],
      ["Start", 0, 1_300, 150, true],
      ["Start › Control plane", 1, 1_300, 150, true],
      ["Start › Control plane › etcd", 2, 1_300, 100, false],
      ["Start › Control plane › apiserver", 2, 1_400, 50, false],
      ["Merge kube context <context>", 0, 1_450, 20, false],
    ],
  );
  // As printed, the names keep the cluster's.
  assert.equal(phases[0]!.name, 'Start control plane "c1"');

  const r = bootstrapRecord({
    command: "bootstrap:sim",
    timeline: tree,
    info: { name: "c1", context: "sim-c1", server: "https://127.0.0.1:1" },
    existed: false,
    ...bootstrapFacts("sim", { nodes: 3, nodeCpu: 8, nodeMemory: 2 ** 35, nodePods: 110 }),
  });
  assert.equal(r.schema, "cncfdemo.bootstrap/v1");
  assert.equal(r.session, r.id);
  assert.equal(r.steps_start_ms, 1_000);
  assert.equal(r.total_ms, 470);
  assert.deepEqual(r.nodes, { count: 3, simulated: 3, types: { kwok: 3 } });
  assert.deepEqual(r.params, {
    nodes: 3,
    node_cpu: 8,
    node_memory: 2 ** 35,
    node_pods: 110,
  });
  assert.equal(r.first_good_request, null);
  assert.match(r.first_good_request_note!, /not measured: bootstrap:sim does not request/);
});

Deno.test("records: the demo's groups are cut out of its timeline; AWS nodes and re-runs", () => {
  const tree = [
    {
      name: "Bootstrap the simulated cluster",
      ok: true,
      ms: 5,
      startMs: 1,
      depth: 0,
      children: [{ name: "A", ok: true, ms: 5, startMs: 1, depth: 1, children: [] }],
    },
    {
      name: "Create the VPC group",
      ok: true,
      ms: 2,
      startMs: 6,
      depth: 0,
      children: [{
        name: "VPC",
        ok: true,
        ms: 2,
        startMs: 6,
        depth: 1,
        detail: "vpc-123 exists",
        children: [],
      }],
    },
  ];
  assert.deepEqual(subtree(tree, "Bootstrap the simulated cluster").map((r) => r.name), ["A"]);
  assert.deepEqual(subtree(tree, "nothing"), []);
  assert.equal(awsExisted(tree), true);
  assert.equal(awsExisted([{ ...tree[1]!.children[0]!, detail: "vpc-1 created" }]), false);
  assert.equal(awsExisted([]), null);

  const aws = bootstrapFacts("aws", {
    masters: 1,
    minions: 3,
    instanceType: "t3.medium",
    region: "eu-west-1",
    wait: false,
  });
  assert.deepEqual(aws.nodes, { count: 4, simulated: 0, types: { "t3.medium": 4 } });
  assert.equal(aws.region, "eu-west-1");
  assert.equal(aws.params.wait, false);
});

Deno.test("records: the model from the cluster's facts, or from our contexts' names", () => {
  assert.equal(modelOfContext("sim", "sim-a"), "sim");
  assert.equal(modelOfContext("kubernetes", "aws-demo"), "aws");
  assert.equal(modelOfContext("kubernetes", "kind-kind"), "kubernetes");
  assert.equal(modelOfContext("local", null), "local");
});
