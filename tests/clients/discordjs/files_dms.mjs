// A plain discord.js 14 bot pointed at rayguild: uploads a file, downloads it again from the
// attachment URL, opens a DM with a user (user.send) and sends a file in it; prints one JSON line.
// argv: base URL (http://host:port), bot token, channel id, user id to DM.
import { createHash, randomBytes } from "node:crypto";
import { AttachmentBuilder, Events, GatewayIntentBits } from "discord.js";
import { bot } from "./bootstrap.mjs";

const seen = {};
const { client, args: [channelId, userId], login, done } = bot(
  [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages],
  seen,
);
const sha = (bytes) => createHash("sha256").update(bytes).digest("hex");

client.once(Events.ClientReady, async () => {
  const blob = randomBytes(600 * 1024 + 3);
  const channel = await client.channels.fetch(channelId);
  const sent = await channel.send({
    content: "a file from discord.js",
    files: [new AttachmentBuilder(blob, { name: "blob.bin", description: "random" })],
  });
  const attachment = sent.attachments.first();
  const downloaded = Buffer.from(await (await fetch(attachment.url)).arrayBuffer());
  seen.blob_equal = sha(downloaded) === sha(blob);
  seen.attachment = { name: attachment.name, size: attachment.size, description: attachment.description };
  const user = await client.users.fetch(userId);
  const dm = await user.send({ content: "hello from discord.js in a DM", files: [{ attachment: Buffer.from("js dm"), name: "dm.txt" }] });
  seen.dm_channel = dm.channelId;
  seen.dm_message = dm.id;
  seen.dm_type = dm.channel.type;
  seen.dm_file = Buffer.from(await (await fetch(dm.attachments.first().url)).arrayBuffer()).toString();
  await done();
});

login();
