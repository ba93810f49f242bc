// A plain discord.js 14 bot that rides through a drain (test_drain_on_ray.py): it prints "ready"
// once connected; after the expected number of messages, one JSON line: the messages in the order
// received and how many READY and RESUMED it got. argv: base URL, bot token, how many messages.
import { Events, GatewayIntentBits } from "discord.js";
import { bot } from "./bootstrap.mjs";

const seen = { messages: [], ready: 0, resumed: 0 };
const { client, args: [expected], login, done } = bot(
  [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
  seen,
  90_000,
);

client.on(Events.Raw, (packet) => {
  if (packet.t === "READY") seen.ready += 1;
  if (packet.t === "RESUMED") seen.resumed += 1;
});
client.once(Events.ClientReady, () => console.log("ready"));
client.on(Events.MessageCreate, async (message) => {
  seen.messages.push(message.content);
  if (seen.messages.length === Number(expected)) await done();
});

login();
