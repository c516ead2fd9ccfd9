/**
 * The report as Markdown, for pasting into an issue or a README: the same blocks as the HTML, the
 * charts replaced by a line saying where they are.
 */
import type { Report } from "./analyze.ts";
import { type Block, reportBlocks, type Table } from "./view.ts";

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");

function table(t: Table): string {
  const align = t.head.map((_, i) => (t.numeric && i > 0 ? "---:" : "---"));
  return [
    `| ${t.head.map(cell).join(" | ")} |`,
    `| ${align.join(" | ")} |`,
    ...t.rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ].join("\n");
}

function block(b: Block): string {
  switch (b.kind) {
    case "heading":
      return `${"#".repeat(b.level)} ${b.text}`;
    case "text":
      return b.note ? `_${b.text}_` : b.text;
    case "table":
      return table(b.table);
    case "list":
      return b.items.map((i) => `- ${i}`).join("\n");
    case "chart":
      return `_${b.title}: a chart in the HTML report (deno task report --format html)._`;
  }
}

/** The report as Markdown. */
export function renderMarkdown(r: Report): string {
  return reportBlocks(r).map(block).join("\n\n") + "\n";
}
