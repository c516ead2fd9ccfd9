/**
 * Which components can run here, by their images. A cluster whose nodes carry the annotation
 * `cncfdemo.io/images: offline` (the `local` provider with `--images offline`) pulls nothing: it
 * runs only images already on its nodes (`node.status.images[].names`). Other clusters are assumed
 * to pull. `deno task demo` switches off what cannot run before its rollout; the rollout names an
 * image that cannot be pulled in one line ({@link imagePullFailure}).
 */
import type { V1Node } from "@kubernetes/client-node";
import { IMAGES } from "../images/catalog.ts";
import { type ImagePullProblem, shortenKubeletMessage } from "../kube/readiness.ts";
import { type Component, COMPONENTS } from "./components.ts";
import type { Rendered } from "./render.ts";
import { switchOffFlags } from "./switches.ts";

/** The node annotation that says how the node gets images: `offline` (imported only) or `pull`. */
export const IMAGES_ANNOTATION = "cncfdemo.io/images";

/**
 * An image reference in its full form, for comparisons: `mongo:8` → `docker.io/library/mongo:8`,
 * `grafana/grafana` → `docker.io/grafana/grafana:latest`; digests are kept.
 */
export function normalizeImageRef(ref: string): string {
  let rest = ref.trim();
  let digest = "";
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at);
    rest = rest.slice(0, at);
  }
  const slash = rest.indexOf("/");
  const first = slash < 0 ? "" : rest.slice(0, slash);
  const hasRegistry = slash >= 0 &&
    (first.includes(".") || first.includes(":") || first === "localhost");
  let registry = hasRegistry ? first : "docker.io";
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = "docker.io";
  if (hasRegistry) rest = rest.slice(slash + 1);
  let tag = "";
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon);
    rest = rest.slice(0, colon);
  }
  if (registry === "docker.io" && !rest.includes("/")) rest = `library/${rest}`;
  if (!tag && !digest) tag = ":latest";
  return `${registry}/${rest}${tag}${digest}`;
}

/** Whether a node takes only the images already on it. */
export function isOfflineNode(node: V1Node): boolean {
  return node.metadata?.annotations?.[IMAGES_ANNOTATION] === "offline";
}

function hasImage(node: V1Node, want: string): boolean {
  return (node.status?.images ?? []).some((i) =>
    (i.names ?? []).some((n) => normalizeImageRef(n) === want)
  );
}

/**
 * Why `image` cannot be had on these nodes (`not on the node and the cluster is offline`), or
 * undefined when it can: the cluster pulls, or every offline node has it (a pod may land on any).
 */
export function whyUnavailable(nodes: readonly V1Node[], image: string): string | undefined {
  const offline = nodes.filter(isOfflineNode);
  if (!offline.length) return undefined;
  const want = normalizeImageRef(image);
  const missing = offline.filter((n) => !hasImage(n, want));
  if (!missing.length) return undefined;
  const where = offline.length === 1
    ? "the node"
    : `node${missing.length === 1 ? "" : "s"} ${missing.map((n) => n.metadata?.name).join(", ")}`;
  return `not on ${where} and the cluster is offline`;
}

/** An enabled component whose image cannot be had. */
export interface MissingImage {
  component: Component;
  image: string;
  /** `not on the node and the cluster is offline`: reads after "<image> is". */
  reason: string;
}

/** The images each component's pods run (init containers too), each once, in component order. */
export function componentImages(objects: readonly Rendered[]): Map<Component, string[]> {
  const out = new Map<Component, string[]>();
  const byOrder = [...objects].sort((a, b) =>
    COMPONENTS.indexOf(a.metadata.labels["app.kubernetes.io/component"] as Component) -
    COMPONENTS.indexOf(b.metadata.labels["app.kubernetes.io/component"] as Component)
  );
  for (const o of byOrder) {
    // deno-lint-ignore no-explicit-any
    const pod = (o as any).spec?.template?.spec;
    if (!pod) continue;
    const c = o.metadata.labels["app.kubernetes.io/component"] as Component;
    const list = out.get(c) ?? [];
    for (const x of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
      if (!list.includes(x.image)) list.push(x.image);
    }
    out.set(c, list);
  }
  return out;
}

/** The rendered components whose images these nodes cannot get, one entry per image. */
export function missingImagesOn(
  nodes: readonly V1Node[],
  objects: readonly Rendered[],
): MissingImage[] {
  const out: MissingImage[] = [];
  for (const [component, images] of componentImages(objects)) {
    for (const image of images) {
      const reason = whyUnavailable(nodes, image);
      if (reason) out.push({ component, image, reason });
    }
  }
  return out;
}

/** Whether `deno task bake --target images` builds an image (else it can only be pulled). */
export function bakeBuilds(image: string): boolean {
  const want = normalizeImageRef(image);
  return IMAGES.some((i) => i.recipe !== undefined && normalizeImageRef(i.ref) === want);
}

/**
 * One line for a container that cannot get its image: which image, which component, the kubelet's
 * reason, and the two ways out (make it available, or switch the component off).
 */
export function imagePullFailure(p: ImagePullProblem): string {
  const label = p.labels["app.kubernetes.io/component"] ?? "";
  const component = (COMPONENTS as readonly string[]).includes(label)
    ? label as Component
    : undefined;
  const message = shortenKubeletMessage(p.message);
  const how = bakeBuilds(p.image)
    ? "deno task bake --target images"
    : "from a registry the node can reach, or imported onto the node";
  return `Cannot pull ${p.image} for ${
    component ? `component ${component}` : `pod ${p.namespace}/${p.pod}`
  } (${p.reason}${message ? `: ${message}` : ""}): make it available (${how})${
    component ? ` or switch the component off (${switchOffFlags(component)})` : ""
  }`;
}
