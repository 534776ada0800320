// ESLint (flat config): typescript-eslint's recommended rules, React's hooks rules for the web app, and rlxf's
// rooms rule (eslint/rooms.js): imports between rooms go through their doors and follow the layering.
import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import tseslint from "typescript-eslint";
import rooms from "./eslint/rooms.js";

export default tseslint.config(
  { ignores: ["dist/**", "dist-bench/**", "node_modules/**", "test/artifacts/**", "examples/**", "**/*.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts", "**/*.tsx", "**/*.js", "**/*.mjs"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module" },
    plugins: { rlxf: { rules: { rooms } } },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "rlxf/rooms": "error",
      eqeqeq: ["error", "always"],
      "no-var": "error",
      "prefer-const": "error",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports", disallowTypeAnnotations: false }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs", "bench/**"],
    languageOptions: {
      globals: { process: "readonly", console: "readonly", URL: "readonly", performance: "readonly", setTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", AbortController: "readonly", fetch: "readonly", Buffer: "readonly" },
    },
  },
  {
    // Tests (and the fake model server they use) poke at untyped JSON, and the store's migrations take Kysely<any>, as Kysely advises.
    files: ["**/*.test.ts", "**/*.contract.ts", "test/**", "src/providers/testing/**", "src/store/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    files: ["web/**/*.tsx", "web/**/*.ts"],
    plugins: { "react-hooks": reactHooks },
    rules: { "react-hooks/rules-of-hooks": "error", "react-hooks/exhaustive-deps": "error" },
  },
);
