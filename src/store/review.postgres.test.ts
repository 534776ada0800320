/** Queue review and item search on PostgreSQL (needs RLXF_TEST_DATABASE_URL; see store.postgres.test.ts). */
import { postgresForFile } from "../../test/support/postgres.js";
import { openStore } from "./index.js";
import { reviewContract } from "./review.contract.js";

const pg = postgresForFile("review.postgres.test");
reviewContract("postgres", async () => openStore({ url: await pg.fresh() }), { skip: !pg.available });
