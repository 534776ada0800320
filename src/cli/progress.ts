/**
 * A counter on a TTY, silence elsewhere (CI, pipes). Writes to stderr so that
 * stdout stays clean for data (`--json`, exports).
 */
export interface Progress {
  tick(n?: number, note?: string): void;
  done(note?: string): void;
}

export function progress(label: string, total?: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const live = Boolean(stream.isTTY) && !process.env.CI;
  let count = 0;
  let last = 0;
  const render = (note?: string) => {
    const pct = total ? ` ${((100 * count) / total).toFixed(0)}%` : "";
    const bar = total ? ` [${"#".repeat(Math.round((20 * count) / total)).padEnd(20, ".")}]` : "";
    stream.write(`\r${label}${bar} ${count}${total ? `/${total}` : ""}${pct}${note ? ` ${note}` : ""}\x1b[K`);
  };
  return {
    tick(n = 1, note) {
      count += n;
      if (!live) return;
      const now = Date.now();
      if (now - last > 100 || (total !== undefined && count >= total)) {
        last = now;
        render(note);
      }
    },
    done(note) {
      if (live) {
        render(note);
        stream.write("\n");
      }
    },
  };
}
