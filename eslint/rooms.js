/**
 * rlxf's architecture as a lint rule. `src/` is split into rooms (one folder each); a room is entered through a
 * door: its `index.ts` (or a sub-folder's `index.ts`), or its `schema.ts` (the shapes it declares, importable
 * without Node). The shared files at the top of `src/` (errors.ts, roles.ts) are open to every room.
 *
 * - another room is imported only through a door (a test may import anything of its own room, another room's
 *   shared test suites (*.contract.ts), and the CLI, which has no door: it is a program, not a library);
 * - domain rooms never import the server, the CLI, the client or the web app, nor the HTTP API's shapes (src/api);
 * - src/api and every schema.ts import only zod, other schema.ts files and the shared files, so that the web
 *   app can take its types from src/api;
 * - the web app imports from src/ only src/api/index.ts, and only its types.
 */
import { dirname, relative, resolve, sep } from "node:path";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");
const SHARED = new Set(["errors.ts", "roles.ts", "index.ts"]);
const ADAPTERS = new Set(["server", "cli", "client", "api"]);
const OUTER = new Set(["server", "cli", "client", "web", "api"]);

/** The repository-relative path of an import target (".js" names the ".ts" source), or undefined for packages. */
function target(file, spec) {
  if (!spec.startsWith(".")) return undefined;
  const abs = resolve(dirname(file), spec).replace(/\.js$/, ".ts").replace(/\.jsx$/, ".tsx");
  return relative(ROOT, abs).split(sep).join("/");
}

/** "src/<room>/..." → room; test/<room>/... belongs to the room it tests; test/*.ts tests the CLI. */
function roomOf(path) {
  const parts = path.split("/");
  if (parts[0] === "src") return parts.length > 2 ? parts[1] : undefined;
  if (parts[0] === "web") return "web";
  if (parts[0] === "test") return parts.length > 2 ? (parts[1] === "support" ? undefined : parts[1]) : "cli";
  return undefined;
}

const isTest = (path) => /\.(test|contract)\.tsx?$/.test(path) || path.startsWith("test/");
const isDoor = (path) => /\/(index|schema)\.ts$/.test(path);
const isSchema = (path) => path.endsWith("/schema.ts") || path.startsWith("src/api/");

export default {
  meta: {
    type: "problem",
    docs: { description: "imports between rooms go through their doors, and follow the layering" },
    schema: [],
  },
  create(context) {
    const file = relative(ROOT, context.filename).split(sep).join("/");
    const from = roomOf(file);
    const check = (node, spec, typeOnly) => {
      if (typeof spec !== "string") return;
      if (file.startsWith("web/")) {
        if (!spec.startsWith(".")) return;
        const to = target(context.filename, spec);
        if (to?.startsWith("src/")) {
          if (to !== "src/api/index.ts") context.report({ node, message: `the web app takes the API's shapes from src/api/index.ts only, not ${to}` });
          else if (!typeOnly) context.report({ node, message: "the web app imports src/api for types only: use `import type`" });
        }
        return;
      }
      const to = target(context.filename, spec);
      if (isSchema(file) && !isTest(file)) {
        if (!to) {
          if (spec !== "zod") context.report({ node, message: `${file} declares shapes for the browser too: it imports only zod, not "${spec}"` });
          return;
        }
        const ok = isSchema(to) || (to.startsWith("src/") && to.split("/").length === 2 && SHARED.has(to.slice(4)) && to !== "src/index.ts");
        const own = roomOf(to) === from && from !== undefined;
        if (!ok && !(own && from !== "api" && to.endsWith("/types.ts"))) {
          context.report({ node, message: `${file} declares shapes for the browser too: it may import only other schema.ts files, src/api and the shared files, not ${to}` });
        }
        return;
      }
      if (!to || !to.startsWith("src/")) return;
      const into = roomOf(to);
      if (into === undefined || into === from) return;
      if (from !== undefined && !ADAPTERS.has(from) && !isTest(file) && OUTER.has(into)) {
        context.report({ node, message: `the ${from} room is domain code: it never imports ${into}/ (${to})` });
        return;
      }
      if (!isDoor(to) && !(isTest(file) && (to.endsWith(".contract.ts") || into === "cli"))) {
        const door = `${to.split("/").slice(0, 2).join("/")}/index.ts`;
        context.report({ node, message: `import ${into}/ through its door (${door}, a sub-folder's index.ts or its schema.ts), not ${to}` });
      }
    };
    return {
      ImportDeclaration(node) {
        check(node, node.source.value, node.importKind === "type" || (node.specifiers.length > 0 && node.specifiers.every((s) => s.importKind === "type")));
      },
      ExportNamedDeclaration(node) {
        if (node.source) check(node, node.source.value, node.exportKind === "type");
      },
      ExportAllDeclaration(node) {
        check(node, node.source.value, node.exportKind === "type");
      },
      ImportExpression(node) {
        if (node.source.type === "Literal") check(node, node.source.value, false);
      },
    };
  },
};
