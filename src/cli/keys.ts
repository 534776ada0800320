/** `rlxf keys`: create, list and revoke API keys (stored as hashes; a key is shown once). */
import { type Command, Option } from "commander";
import { RlxfError } from "../errors.js";
import { ROLES, ROLE_SUMMARIES, type Role } from "../roles.js";
import { type DbOptions, dbOption, info, out, projectOption, storeLabel, table, withStore } from "./shared.js";

interface CreateOptions extends DbOptions {
  project: string;
  role: Role;
  name?: string;
  json?: boolean;
  createStore?: boolean;
}

interface ListOptions extends DbOptions {
  project?: string;
  all?: boolean;
  json?: boolean;
}

const ROLE_HELP = ROLES.map((r) => `${r}: ${ROLE_SUMMARIES[r]}`).join("; ");

export async function runKeysCreate(opts: CreateOptions): Promise<void> {
  // A key is only good for the server on the same store: a new store made by mistake (another directory, no
  // --db) would give a key that server never heard of.
  const created = await withStore(
    opts,
    (store) => store.keys.create({ project: opts.project, role: opts.role, ...(opts.name !== undefined ? { name: opts.name } : {}) }),
    { create: !!opts.createStore, createFlag: "--create-store" },
  );
  if (opts.json) {
    out(JSON.stringify(created) + "\n");
    return;
  }
  out(`${created.secret}\n`);
  info(
    `created key ${created.key.id} (project "${created.key.project}", role ${created.key.role}, name "${created.key.name}") in ${await storeLabel(opts)}.\n` +
      `A server answers to it only when it runs on this same store.\n` +
      `It is shown this once (only its hash is stored). Send it as: Authorization: Bearer <key>\n`,
  );
}

export async function runKeysList(opts: ListOptions): Promise<void> {
  const keys = await withStore(opts, (store) =>
    store.keys.list({ ...(opts.project !== undefined ? { project: opts.project } : {}), includeRevoked: !!opts.all }),
  );
  if (opts.json) {
    out(JSON.stringify(keys) + "\n");
    return;
  }
  if (keys.length === 0) {
    out("no keys\n");
    return;
  }
  out(
    table(keys, [
      { key: "id" },
      { key: "project" },
      { key: "role" },
      { key: "name" },
      { key: "createdAt", title: "created" },
      { key: "revokedAt", title: "revoked" },
    ]),
  );
}

export async function runKeysRevoke(id: string, opts: DbOptions & { project?: string }): Promise<void> {
  const key = await withStore(opts, (store) => store.keys.revoke(id, opts.project));
  if (!key) throw new RlxfError("not_found", `no key "${id}"${opts.project ? ` in project "${opts.project}"` : ""}`);
  out(`revoked key ${key.id} (project "${key.project}", role ${key.role}) at ${key.revokedAt}\n`);
}

export function register(program: Command): void {
  const keys = program.command("keys").description("API keys of the HTTP API (rlxf serve): create, list, revoke");

  keys
    .command("create")
    .description(`create a key and print it once. Roles: ${ROLE_HELP}`)
    .addOption(projectOption("the project the key belongs to (it never sees another)"))
    .addOption(new Option("--role <role>", "what the key may do").choices([...ROLES]).makeOptionMandatory())
    .option("--name <name>", "who holds it; for annotate keys the annotator id their feedback carries (default: the key id)")
    .option("--json", "print {key, secret} as JSON")
    .addOption(dbOption())
    .option("--create-store", "make a new, empty store when there is none (by default the store must exist: the one `rlxf serve` uses)")
    .action(runKeysCreate);

  keys
    .command("list")
    .description("list keys (never their secrets)")
    .option("--project <name>", "only this project's keys")
    .option("--all", "include revoked keys")
    .option("--json", "print JSON")
    .addOption(dbOption())
    .action(runKeysList);

  keys
    .command("revoke")
    .description("revoke a key: it authenticates nothing from now on")
    .argument("<id>", "the key id (the part after rlxf_, as `rlxf keys list` shows it)")
    .option("--project <name>", "refuse unless the key belongs to this project")
    .addOption(dbOption())
    .action(runKeysRevoke);
}
