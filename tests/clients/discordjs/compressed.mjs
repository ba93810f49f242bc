// A discord.js 14 bot on the compressed gateway (zlib-stream, read by zlib-sync, which
// @discordjs/ws 1 needs for it): records the URL it connected to and the compression it reports,
// logs in, waits quiet for a while (the server frees an idle connection's deflate context), then
// sends a message over REST and receives it as MESSAGE_CREATE through the same stream.
// argv: base URL (http://host:port), bot token, channel id, quiet time in ms.
import { Events, GatewayIntentBits } from "discord.js";
import { bot } from "./bootstrap.mjs";

const MESSAGE = "compressed hello from discord.js";
const seen = { debug: [] };
const { client, args: [channelId, quietMs], login, done } = bot(
  [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
  seen,
);

client.on(Events.Debug, (line) => {
  const wanted = line.match(/Connecting to (\S+)|compression: (\S+)/);
  if (wanted) seen.debug.push(wanted[0]);
  if (line.includes("Connecting to")) seen.url = wanted[1];
  if (line.includes("compression:")) seen.compression = wanted[2];
});
client.on(Events.Error, (error) => {
  seen.error = String(error);
});

client.once(Events.ClientReady, async (ready) => {
  seen.user = ready.user.username;
  seen.guilds = ready.guilds.cache.map((g) => g.name);
  await new Promise((resolve) => setTimeout(resolve, Number(quietMs)));
  const channel = await client.channels.fetch(channelId);
  seen.sent_id = (await channel.send(MESSAGE)).id;
});

client.on(Events.MessageCreate, async (message) => {
  if (message.content !== MESSAGE) return;
  seen.received_id = message.id;
  seen.received_content = message.content;
  await done();
});

login();
