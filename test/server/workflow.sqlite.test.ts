import { workflowContract } from "./workflow.contract.js";
import { sqliteMemory } from "./helpers.js";

workflowContract("sqlite", sqliteMemory);
