/** Queue review and item search on SQLite (see review.contract.ts). */
import { openStore } from "./index.js";
import { reviewContract } from "./review.contract.js";

reviewContract("sqlite", () => openStore({ path: ":memory:" }));
