/**
 * Every top-level command of `rlxf`, as `rlxf --help` lists it, and the module that defines it. A run loads only
 * the module of the command it runs, so that `rlxf --help` or `rlxf leaderboard FILE` does not pay for the server,
 * the verifiers or the learners. A new command group gets an entry here (in program.ts's order); the CLI's tests
 * check that this listing is the full program's.
 */
import type { Command } from "commander";

export type Register = (program: Command) => void;

export interface CommandEntry {
  name: string;
  /** How the top-level help shows it: the name, `[options]` when it takes any, its arguments. */
  term: string;
  description: string;
  /** The function that defines the command on a program (it may define sibling commands as well). */
  load: () => Promise<Register>;
}

const core = () => import("./core.js");

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "import",
    term: "import [options] <files...>",
    description: "import feedback files into the store (.gz read transparently; format detected from content)",
    load: async () => (await core()).registerImport,
  },
  {
    name: "export",
    term: "export [options]",
    description: "export stored feedback as a dataset (streams; never holds everything in memory)",
    load: async () => (await core()).registerExport,
  },
  {
    name: "leaderboard",
    term: "leaderboard [options] [files...]",
    description: "rank models from pairwise feedback in files or in the store",
    load: async () => (await import("./leaderboard.js")).registerLeaderboard,
  },
  { name: "stats", term: "stats [options]", description: "count what the store holds", load: async () => (await core()).registerStats },
  {
    name: "demo",
    term: "demo [options]",
    description: "import the bundled example dataset into the store and print its leaderboard",
    load: async () => (await core()).registerDemo,
  },
  {
    name: "serve",
    term: "serve [options]",
    description: "start the HTTP API (v1) on the store; an empty store gets a demo project",
    load: async () => (await import("./serve.js")).register,
  },
  { name: "keys", term: "keys", description: "API keys of the HTTP API (rlxf serve): create, list, revoke", load: async () => (await import("./keys.js")).register },
  {
    name: "judge",
    term: "judge",
    description: "LLM judges and critics: judge files of examples with a model; store the feedback",
    load: async () => (await import("./judge.js")).register,
  },
  {
    name: "judge-report",
    term: "judge-report [options]",
    description: "agreement (with humans and between judges) and position / length / list bias of every judge over stored pairwise feedback",
    load: async () => (await import("./judge.js")).register,
  },
  {
    name: "simulate",
    term: "simulate [options]",
    description: "simulated pairwise annotators (AlpacaFarm): one pool member per example by a seeded hash, label-flip noise, position randomization",
    load: async () => (await import("./simulate.js")).register,
  },
  {
    name: "verify",
    term: "verify",
    description: "verifiable feedback: math answers, code in a sandbox, text checks",
    load: async () => (await import("./verify.js")).register,
  },
  {
    name: "rm",
    term: "rm",
    description: "reward models trained on stored feedback (Bradley-Terry, ensembles, general preference models)",
    load: async () => (await import("./rm.js")).register,
  },
  {
    name: "dataset",
    term: "dataset",
    description: "build training datasets from stored feedback (TRL, OpenRLHF, verl, OpenAI)",
    load: async () => (await import("./dataset.js")).register,
  },
  {
    name: "lab",
    term: "lab",
    description: "compare methods that learn from feedback, on real AlpacaEval outputs and judgements (AlpacaFarm-style)",
    load: async () => (await import("./lab.js")).register,
  },
  {
    name: "loop",
    term: "loop",
    description: "test-time loops that put feedback back into the policy's prompt; runs and traces are stored",
    load: async () => (await import("./loop.js")).register,
  },
  {
    name: "memory",
    term: "memory",
    description: "memory of feedback: principles (with scopes) and past corrections distilled from stored critiques and corrections",
    load: async () => (await import("./memory.js")).register,
  },
  {
    name: "critic",
    term: "critic",
    description: "closed-loop critic evaluation: does a critic's critique help an actor fix its solutions? (RealCritic)",
    load: async () => (await import("./critic.js")).register,
  },
  {
    name: "dense",
    term: "dense",
    description: "dense rewards: per-segment rewards from segment reward models (train one with rlxf rm train --type segments)",
    load: async () => (await import("./dense.js")).register,
  },
  { name: "spans", term: "spans", description: "span feedback: derive spans from critiques", load: async () => (await import("./dense.js")).register },
  {
    name: "worker",
    term: "worker [options]",
    description: "run background jobs (judging, verifying, rewards, leaderboards, exports, training, lab, loops) until stopped; start as many as you like on PostgreSQL",
    load: async () => (await import("./worker.js")).register,
  },
  {
    name: "jobs",
    term: "jobs",
    description: "background jobs: list them, follow one, cancel it or run again what failed",
    load: async () => (await import("./jobs.js")).register,
  },
  {
    name: "rules",
    term: "rules",
    description: "judges on live traffic: a judge or verifier on every new generation that matches a filter",
    load: async () => (await import("./rules.js")).register,
  },
];
