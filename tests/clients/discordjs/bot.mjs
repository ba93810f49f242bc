// A plain discord.js 14 bot pointed at rayguild: logs in, sends a message over REST, receives it
// through the gateway, reads the channel's history, prints one JSON line of what it saw.
// argv: base URL (http://host:port), bot token, channel id.
import { Events, GatewayIntentBits } from "discord.js";
import { bot } from "./bootstrap.mjs";

const MESSAGE = "hello from discord.js";
const seen = {};
const { client, args: [channelId], login, done } = bot(
  [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
  seen,
);

client.once(Events.ClientReady, async (ready) => {
  seen.user = ready.user.username;
  seen.guilds = ready.guilds.cache.map((g) => g.name);
  const channel = await client.channels.fetch(channelId);
  seen.sent_id = (await channel.send(MESSAGE)).id;
});

client.on(Events.MessageCreate, async (message) => {
  if (message.content !== MESSAGE) return;
  seen.received_id = message.id;
  seen.received_guild = message.guild?.name ?? null;
  const history = await message.channel.messages.fetch({ limit: 10 });
  seen.history = [...history.values()].map((m) => m.content);
  await done();
});

login();
