// A plain discord.js 14 bot that lives through its guild going unavailable (test_guild_loss.py).
// argv: base URL (http://host:port), bot token, channel id. Prints "ready" once connected and
// "available" once its guild is back (after fetching the channel's history, as a bot catching up
// does); on the message "back" prints one JSON line of what it saw and exits.
import { Events, GatewayIntentBits } from "discord.js";
import { bot } from "./bootstrap.mjs";

const seen = { ready: [], unavailable: [], available: [], live: [] };
const { client, args: [channelId], login, done } = bot(
  [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
  seen,
);

client.on(Events.Raw, (packet) => {
  if (packet.t === "READY") seen.ready.push(packet.d.session_id); // a second one: it identified again
});
client.once(Events.ClientReady, () => console.log("ready"));
client.on(Events.GuildUnavailable, (guild) => seen.unavailable.push(guild.id));
client.on(Events.GuildAvailable, async (guild) => {
  if (seen.unavailable.length === 0) return;
  const channel = guild.channels.cache.get(channelId);
  seen.available.push(guild.id);
  seen.last_message_id = channel.lastMessageId;
  const history = await channel.messages.fetch({ limit: 10 });
  seen.history = [...history.values()].map((m) => m.content);
  console.log("available");
});
client.on(Events.MessageCreate, async (message) => {
  seen.live.push(message.content);
  if (message.content !== "back") return;
  await done();
});

login();
