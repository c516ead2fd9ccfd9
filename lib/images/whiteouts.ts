/**
 * Turning an overlayfs upper directory into an OCI layer tree, in place: overlayfs records a
 * deleted path as a character device 0/0 and a directory that replaced a lower one (its lower
 * content hidden) with the extended attribute `trusted.overlay.opaque=y`; an OCI layer says the
 * same with an empty file `.wh.<name>` beside the deleted path, and `.wh..wh..opq` inside the
 * opaque directory.
 *
 * The opaque attributes are read with one `getfattr` run over the whole tree (Debian package
 * `attr`); whiteouts are found by walking it.
 */
import { CncfdemoError } from "../errors.ts";
import { run } from "../run_program.ts";

export interface WhiteoutCount {
  /** Deleted paths turned into `.wh.<name>` files. */
  whiteouts: number;
  /** Opaque directories given a `.wh..wh..opq` file. */
  opaque: number;
}

const OPAQUE_MARKER = ".wh..wh..opq";

/** getfattr's path quoting: `\ooo` octal escapes and `\\`. */
export function unescapeGetfattrPath(text: string): string {
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "\\" && /^[0-7]{3}$/.test(text.slice(i + 1, i + 4))) {
      bytes.push(parseInt(text.slice(i + 1, i + 4), 8));
      i += 3;
    } else if (ch === "\\" && text[i + 1] === "\\") {
      bytes.push(0x5c);
      i += 1;
    } else {
      bytes.push(...enc.encode(ch));
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** Directories under `dir` (absolute paths) marked opaque by overlayfs. */
export async function opaqueDirectories(dir: string): Promise<string[]> {
  const r = await run(
    "getfattr",
    [
      "--recursive",
      "--physical",
      "--absolute-names",
      "--dump",
      "--match=^trusted\\.overlay\\.opaque$",
      dir,
    ],
    { installHint: "apt-get install attr", allowFailure: true },
  );
  if (r.code !== 0 && r.stdout === "") {
    throw new CncfdemoError(
      `getfattr could not read overlay attributes under ${dir}: ${
        r.stderr.trim().split("\n").pop()
      }`,
    );
  }
  const out: string[] = [];
  let current: string | undefined;
  for (const line of r.stdout.split("\n")) {
    if (line.startsWith("# file: ")) current = unescapeGetfattrPath(line.slice(8));
    else if (current && /^trusted\.overlay\.opaque="y"$/.test(line)) out.push(current);
  }
  return out;
}

async function walk(dir: string, found: string[]): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) {
      await walk(path, found);
    } else if (!e.isFile && !e.isSymlink) {
      const st = await Deno.lstat(path);
      if (st.isCharDevice && st.rdev === 0) found.push(path);
    }
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.lstat(path)).isDirectory;
  } catch {
    return false;
  }
}

async function createMarker(path: string): Promise<void> {
  const f = await Deno.open(path, { write: true, create: true, truncate: true, mode: 0o644 });
  f.close();
  await Deno.chmod(path, 0o644);
  await Deno.chown(path, 0, 0).catch((err) => {
    // not root: the marker keeps our owner (only its name matters to the runtime)
    if (!(err instanceof Deno.errors.PermissionDenied)) throw err;
  });
}

/**
 * Converts overlayfs whiteouts and opaque directories under `dir` to OCI markers, in place.
 *
 * overlayfs also marks every directory it creates under a merged directory opaque (a lookup
 * optimisation); given the `lower` directory, a directory the lower one does not have gets no
 * marker, as it hides nothing.
 */
export async function convertWhiteouts(dir: string, lower?: string): Promise<WhiteoutCount> {
  const devices: string[] = [];
  await walk(dir, devices);
  for (const path of devices) {
    const slash = path.lastIndexOf("/");
    await Deno.remove(path);
    await createMarker(`${path.slice(0, slash)}/.wh.${path.slice(slash + 1)}`);
  }
  const opaque: string[] = [];
  for (const d of await opaqueDirectories(dir)) {
    if (lower !== undefined && !(await isDirectory(`${lower}${d.slice(dir.length)}`))) continue;
    opaque.push(d);
    await createMarker(`${d}/${OPAQUE_MARKER}`);
  }
  return { whiteouts: devices.length, opaque: opaque.length };
}
