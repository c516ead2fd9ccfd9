/**
 * Building the container images in `images/<name>/Dockerfile` with docker or podman (`bake --target
 * images`): finds an engine that answers (`<cli> info`), says in one line when there is none — or
 * when the docker CLI is there but its engine is not — then builds each image as
 * `cncfdemo/<name>:latest`, or `<registry>/cncfdemo-<name>:latest` pushed to `--registry`.
 */
import { CncfdemoError } from "./errors.ts";
import { hasProgram, lastLines, run } from "./process.ts";

export const IMAGES_DIR = new URL("../images/", import.meta.url).pathname;

export interface Engine {
  cli: "docker" | "podman";
}

/** The first of docker, podman whose engine answers; a one-line error otherwise. */
export async function findEngine(): Promise<Engine> {
  const problems: string[] = [];
  for (const cli of ["docker", "podman"] as const) {
    if (!(await hasProgram(cli))) continue;
    const r = await run(cli, ["info"], { allowFailure: true });
    if (r.code === 0) return { cli };
    const why = lastLines(r.stderr, 1) || lastLines(r.stdout, 1) || `exit code ${r.code}`;
    problems.push(`${cli} is installed but its engine is not running (${why})`);
  }
  if (problems.length === 0) {
    throw new CncfdemoError(
      "Cannot build container images: neither docker nor podman is installed; install one (e.g. apt-get install podman) and run again",
    );
  }
  throw new CncfdemoError(
    `Cannot build container images: ${
      problems.join("; ")
    }; start the engine (systemctl start docker) or install podman`,
  );
}

/** The images with a Dockerfile, by directory name. */
export async function imageNames(dir = IMAGES_DIR): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!e.isDirectory) continue;
    try {
      await Deno.stat(`${dir}/${e.name}/Dockerfile`);
      names.push(e.name);
    } catch {
      // no Dockerfile: not a container image (images/node is a machine image)
    }
  }
  return names.sort();
}

/** The tag of image `name`. */
export function imageTag(name: string, registry?: string): string {
  return registry
    ? `${registry.replace(/\/$/, "")}/cncfdemo-${name}:latest`
    : `cncfdemo/${name}:latest`;
}

/** Builds (and with a registry, pushes) one image. */
export async function buildImage(
  engine: Engine,
  name: string,
  registry: string | undefined,
  progress: (line: string) => void,
  dir = IMAGES_DIR,
): Promise<string> {
  const tag = imageTag(name, registry);
  await run(engine.cli, ["build", "-t", tag, `${dir}/${name}`], { onLine: (l) => progress(l) });
  if (registry) await run(engine.cli, ["push", tag], { onLine: (l) => progress(l) });
  return tag;
}
