// npm run build: the library (tsc -p tsconfig.build.json into dist/) and the web app (vite into dist/web/).
//
// Skipped when dist/ was built from exactly the sources there now: a hash of every input's path and content
// (src/ without its tests, web/, the tsconfig files, package.json and package-lock.json) is kept in
// dist/.build-hash, and a build whose hash matches and whose entry points exist has nothing to do. `npm test`
// and the benchmarks build first, so a second build after an unchanged checkout costs a hash of the sources
// (tens of milliseconds) instead of a type-check and a bundle. `--force` builds anyway.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const STAMP = join(root, "dist", ".build-hash");
const OUTPUTS = ["dist/index.js", "dist/cli/main.js", "dist/web/index.html"];
const FILES = ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json"];
/** Files under src/ that tsconfig.build.json leaves out: they change nothing in dist/. */
const NOT_BUILT = /\.(test|contract)\.ts$/;

function walk(dir, out) {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "node_modules") walk(path, out);
    } else if (e.isFile() && !NOT_BUILT.test(e.name)) out.push(path);
  }
  return out;
}

function inputsHash() {
  const h = createHash("sha256");
  const files = [...FILES.map((f) => join(root, f)).filter((f) => existsSync(f)), ...walk(join(root, "src"), []), ...walk(join(root, "web"), [])];
  for (const f of files) {
    h.update(relative(root, f));
    h.update("\0");
    h.update(readFileSync(f));
    h.update("\0");
  }
  return h.digest("hex");
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const force = process.argv.includes("--force");
const hash = inputsHash();
const current = !force && OUTPUTS.every((f) => existsSync(join(root, f))) && existsSync(STAMP) && readFileSync(STAMP, "utf8").trim() === hash;
if (!current) {
  rmSync(STAMP, { force: true });
  const bin = (name) => join(root, "node_modules", ".bin", name);
  run(bin("tsc"), ["-p", "tsconfig.build.json"]);
  run(bin("vite"), ["build", "--config", "web/vite.config.ts", "--logLevel", "warn"]);
  writeFileSync(STAMP, `${hash}\n`);
}
