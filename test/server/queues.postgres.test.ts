/** The queues suite against PostgreSQL (needs RLXF_TEST_DATABASE_URL; `source .ci/postgres.sh`). */
import { openStore } from "../../src/store/index.js";
import { queuesContract } from "./queues.contract.js";
import { postgresForFile } from "./helpers.js";

const pg = postgresForFile("queues.postgres.test");
queuesContract("postgres", async () => openStore({ url: await pg.fresh() }), { skip: !pg.available });
