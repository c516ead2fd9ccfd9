/**
 * The Debian mirrors this machine uses, read from its apt sources (deb822 `*.sources` files and
 * one-line `sources.list` files), so the images are built from the same mirror as the host's
 * packages. Falls back to deb.debian.org where the host lists no source for the suite (a host that
 * is not Debian, or another release).
 */

export interface DebianMirrors {
  /** The archive (suite and suite-updates). */
  mirror: string;
  /** The security archive (suite-security). */
  security: string;
}

export const DEFAULT_MIRRORS: DebianMirrors = {
  mirror: "http://deb.debian.org/debian",
  security: "http://deb.debian.org/debian-security",
};

interface Entry {
  uris: string[];
  suites: string[];
  types: string[];
}

/** The `deb` entries of one apt sources file, either format. */
export function parseAptSources(text: string): Entry[] {
  const entries: Entry[] = [];
  const lines = text.split("\n").map((l) => l.replace(/#.*$/, "").trimEnd());
  if (lines.some((l) => /^(Types|URIs|Suites):/i.test(l))) {
    // deb822: paragraphs separated by blank lines; continuation lines start with a space
    let fields: Record<string, string> = {};
    let last = "";
    const flush = () => {
      if (fields["uris"] && fields["suites"]) {
        if (fields["enabled"]?.toLowerCase() !== "no") {
          entries.push({
            uris: fields["uris"].split(/\s+/).filter(Boolean),
            suites: fields["suites"].split(/\s+/).filter(Boolean),
            types: (fields["types"] ?? "deb").split(/\s+/).filter(Boolean),
          });
        }
      }
      fields = {};
    };
    for (const line of [...lines, ""]) {
      if (line.trim() === "") {
        flush();
        continue;
      }
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (m) {
        last = m[1]!.toLowerCase();
        fields[last] = m[2]!.trim();
      } else if (/^\s/.test(line) && last) {
        fields[last] = `${fields[last]} ${line.trim()}`;
      }
    }
    return entries;
  }
  for (const line of lines) {
    const m = /^(deb|deb-src)\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
    if (m) entries.push({ types: [m[1]!], uris: [m[2]!], suites: [m[3]!] });
  }
  return entries;
}

/** The mirrors for `suite` among parsed entries, with the defaults where none is listed. */
export function mirrorsFor(entries: readonly Entry[], suite: string): DebianMirrors {
  const find = (s: string) =>
    entries.find((e) => e.types.includes("deb") && e.suites.includes(s))?.uris[0]?.replace(
      /\/+$/,
      "",
    );
  return {
    mirror: find(suite) ?? DEFAULT_MIRRORS.mirror,
    security: find(`${suite}-security`) ?? DEFAULT_MIRRORS.security,
  };
}

/** The host's mirrors for `suite` (/etc/apt/sources.list and /etc/apt/sources.list.d/). */
export async function hostDebianMirrors(
  suite: string,
  etcApt = "/etc/apt",
): Promise<DebianMirrors> {
  const texts: string[] = [];
  const read = async (path: string) => {
    try {
      texts.push(await Deno.readTextFile(path));
    } catch {
      // absent or unreadable: not a source
    }
  };
  await read(`${etcApt}/sources.list`);
  try {
    const names: string[] = [];
    for await (const e of Deno.readDir(`${etcApt}/sources.list.d`)) {
      if (/\.(list|sources)$/.test(e.name)) names.push(e.name);
    }
    for (const n of names.sort()) await read(`${etcApt}/sources.list.d/${n}`);
  } catch {
    // no sources.list.d
  }
  return mirrorsFor(texts.flatMap(parseAptSources), suite);
}
