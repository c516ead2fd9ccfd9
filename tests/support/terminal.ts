/**
 * Test support: a program run under a pseudo-terminal (python3's `pty` module, a window of a given
 * size), and a replay of what it wrote as a terminal would show it — control sequences applied,
 * carriage-return redraws and erased lines gone — so a test can check what a user sees.
 */

const PTY_RUNNER = `
import fcntl, os, pty, struct, subprocess, sys, termios
cols, rows, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
child = subprocess.Popen(sys.argv[4:], stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
os.close(slave)
with open(out, "wb") as f:
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        f.write(data)
sys.exit(child.wait())
`;

export interface PtyResult {
  code: number;
  /** Everything the program wrote to its terminal (stdout and stderr), raw. */
  raw: string;
}

/** Runs a program with stdin, stdout and stderr on a pseudo-terminal of `columns`×`rows`. */
export async function runInPty(
  cmd: string,
  args: readonly string[],
  options: { env: Record<string, string>; cwd?: string; columns?: number; rows?: number },
): Promise<PtyResult> {
  const out = await Deno.makeTempFile({ prefix: "cncfdemo-pty-" });
  try {
    const { code } = await new Deno.Command("python3", {
      args: [
        "-c",
        PTY_RUNNER,
        String(options.columns ?? 160),
        String(options.rows ?? 40),
        out,
        cmd,
        ...args,
      ],
      env: options.env,
      clearEnv: true,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    return { code, raw: await Deno.readTextFile(out) };
  } finally {
    await Deno.remove(out).catch(() => {});
  }
}

/**
 * The lines a terminal of `columns` columns shows after receiving `stream` (scrollback included,
 * trailing blanks trimmed): printable text at the cursor with automatic wrapping, CR, LF,
 * backspace, cursor movement (CSI A B C D G H), erasing (CSI K, CSI J); colours, modes and OSC
 * strings change nothing visible here.
 */
export function replayTerminal(stream: string, columns: number): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  const line = (r: number) => (lines[r] ??= []);
  const chars = [...stream];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === "\x1b") {
      const next = chars[i + 1];
      if (next === "[") {
        let j = i + 2;
        let params = "";
        while (j < chars.length && !/[@-~]/.test(chars[j]!)) params += chars[j++];
        const final = chars[j];
        i = j;
        if (params.startsWith("?")) continue;
        const nums = params.split(";").map((p) => (p === "" ? NaN : Number(p)));
        const n = Number.isNaN(nums[0]!) ? 1 : nums[0]!;
        const mode = Number.isNaN(nums[0]!) ? 0 : nums[0]!;
        switch (final) {
          case "A":
            row = Math.max(0, row - n);
            break;
          case "B":
            row += n;
            break;
          case "C":
            col = Math.min(columns - 1, col + n);
            break;
          case "D":
            col = Math.max(0, col - n);
            break;
          case "G":
            col = Math.max(0, Math.min(columns - 1, n - 1));
            break;
          case "H":
          case "f":
            // Absolute positions are relative to the window; these programs only use home.
            col = Number.isNaN(nums[1] ?? NaN) ? 0 : Math.max(0, nums[1]! - 1);
            break;
          case "K":
            if (mode === 0) line(row).length = Math.min(line(row).length, col);
            else if (mode === 1) line(row).fill(" ", 0, col + 1);
            else lines[row] = [];
            break;
          case "J":
            if (mode === 0) {
              line(row).length = Math.min(line(row).length, col);
              lines.length = row + 1;
            }
            break;
        }
      } else if (next === "]") {
        let j = i + 2;
        while (j < chars.length && chars[j] !== "\x07" && chars[j] !== "\x1b") j++;
        i = chars[j] === "\x1b" ? j + 1 : j;
      } else {
        i++;
      }
    } else if (c === "\r") {
      col = 0;
    } else if (c === "\n") {
      row++;
    } else if (c === "\b") {
      col = Math.max(0, col - 1);
    } else if (c >= " ") {
      if (col >= columns) {
        row++;
        col = 0;
      }
      const l = line(row);
      while (l.length < col) l.push(" ");
      l[col++] = c;
    }
  }
  for (let r = 0; r <= row; r++) line(r);
  const text = Array.from(lines, (l) => (l ?? []).join("").trimEnd());
  while (text.length && text[text.length - 1] === "") text.pop();
  return text;
}
