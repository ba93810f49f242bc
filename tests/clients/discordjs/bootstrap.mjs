// What every bot script here starts with: its arguments, a discord.js 14 client pointed at the
// rayguild server (only the base URL changed), a deadline that fails the script (exit 2) with
// what it saw so far, and the ending that prints what it saw as one JSON line (the test reads the
// last line of stdout). argv of every script: base URL (http://host:port), bot token, its own.
import { Client } from "discord.js";

export function bot(intents, seen, timeoutMs = 60_000) {
  const [base, token, ...args] = process.argv.slice(2);
  const client = new Client({ intents, rest: { api: `${base}/api` } });
  const timer = setTimeout(() => {
    console.error("timed out", JSON.stringify(seen));
    process.exit(2);
  }, timeoutMs);
  return {
    client,
    args,
    login: () => client.login(token),
    done: async (code = 0) => {
      if (code === 0) console.log(JSON.stringify(seen));
      clearTimeout(timer);
      await client.destroy();
    },
  };
}
