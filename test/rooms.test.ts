/**
 * The rooms rule (eslint/rooms.js) refuses what breaks the architecture and lets the rest through.
 */
import { join, resolve } from "node:path";
import { RuleTester } from "eslint";
import tseslint from "typescript-eslint";
import { afterAll, describe, it } from "vitest";
// @ts-expect-error -- a plain JavaScript module without declarations
import rooms from "../eslint/rooms.js";

// RuleTester runs its cases as tests of the runner it is given.
Object.assign(RuleTester, { afterAll, describe, it });

const root = resolve(import.meta.dirname, "..");
const at = (path: string) => join(root, path);
const tester = new RuleTester({ languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: "module" } });

tester.run("rooms", rooms, {
  valid: [
    { filename: at("src/queues/service.ts"), code: 'import { createRng } from "../eval/index.js";' },
    { filename: at("src/queues/service.ts"), code: 'import { Id } from "../feedback/schema.js";' },
    { filename: at("src/rewards/specs.ts"), code: 'import { createVerifier } from "../sources/verifiers/index.js";' },
    { filename: at("src/learn/reward/model.ts"), code: 'import { RlxfError } from "../../errors.js"; import { tokenize } from "../features/tokenize.js";' },
    { filename: at("src/server/app.ts"), code: 'import { createQueue } from "../queues/index.js"; import { QueueView } from "../api/index.js";' },
    { filename: at("src/eval/stats.test.ts"), code: 'import { mean } from "./stats.js"; import { fixture } from "../learn/datasets/fixture.contract.js";' },
    { filename: at("test/server/demo.test.ts"), code: 'import { demoDatasetPath } from "../../src/cli/demo.js";' },
    { filename: at("src/api/http.ts"), code: 'import { z } from "zod"; import { Item } from "../feedback/schema.js"; import { ROLES } from "../roles.js";' },
    { filename: at("web/src/screens/Queues.tsx"), code: 'import type { QueueView } from "../../../src/api/index.js"; import { useState } from "react";' },
  ],
  invalid: [
    { filename: at("src/server/context.ts"), code: 'import { badKeyString } from "../store/codec.js";', errors: [{ message: /through its door \(src\/store\/index\.ts/ }] },
    { filename: at("src/cli/loop.ts"), code: 'export { loopMetrics } from "../loops/metrics.js";', errors: 1 },
    { filename: at("src/loops/run.ts"), code: 'const m = await import("../learn/reward/model.js");', errors: 1 },
    { filename: at("src/queues/service.ts"), code: 'import { jsonBody } from "../server/index.js";', errors: [{ message: /domain code: it never imports server/ }] },
    { filename: at("src/eval/stats.ts"), code: 'import type { QueueView } from "../api/index.js";', errors: [{ message: /never imports api/ }] },
    { filename: at("src/store/store.test.ts"), code: 'import { mean } from "../eval/stats.js";', errors: 1 },
    { filename: at("src/api/http.ts"), code: 'import { openStore } from "../store/index.js";', errors: [{ message: /only other schema\.ts files/ }] },
    { filename: at("src/queues/schema.ts"), code: 'import { readFile } from "node:fs";', errors: [{ message: /imports only zod/ }] },
    { filename: at("web/src/screens/Queues.tsx"), code: 'import { QUESTION_KINDS } from "../../../src/api/index.js";', errors: [{ message: /for types only/ }] },
    { filename: at("web/src/screens/Queues.tsx"), code: 'import type { Store } from "../../../src/store/index.js";', errors: [{ message: /src\/api\/index\.ts only/ }] },
  ],
});
