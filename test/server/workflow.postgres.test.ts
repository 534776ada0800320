/** The annotation workflow suite against PostgreSQL (needs RLXF_TEST_DATABASE_URL; `source .ci/postgres.sh`). */
import { openStore } from "../../src/store/index.js";
import { workflowContract } from "./workflow.contract.js";
import { postgresForFile } from "./helpers.js";

const pg = postgresForFile("workflow.postgres.test");
workflowContract("postgres", async () => openStore({ url: await pg.fresh() }), { skip: !pg.available });
