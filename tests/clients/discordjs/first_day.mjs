// A discord.js 14 bot's first day against rayguild: it sends an embed, replies to it, reacts and
// sees the reaction event, types and sees TYPING_START, pins, and gives a member a role and sees
// GUILD_MEMBER_UPDATE. Prints one JSON line of what it saw.
// argv: base URL (http://host:port), bot token, channel id, the id of another member.
import { EmbedBuilder, Events, GatewayIntentBits } from "discord.js";
import { bot } from "./bootstrap.mjs";

const THUMBS = "\u{1F44D}";
const WAIT_MS = 20_000;
const seen = {};
const intents = [
  GatewayIntentBits.Guilds, GatewayIntentBits.GuildMembers, GatewayIntentBits.GuildMessages,
  GatewayIntentBits.MessageContent, GatewayIntentBits.GuildMessageReactions,
  GatewayIntentBits.GuildMessageTyping,
];
const { client, args: [channelId, otherId], login, done } = bot(intents, seen, 90_000);

// The next `event` whose arguments pass `check`.
function next(event, check) {
  return new Promise((resolve, reject) => {
    const timeout = setTimeout(() => reject(new Error(`no ${event}`)), WAIT_MS);
    const listener = (...args) => {
      if (!check(...args)) return;
      clearTimeout(timeout);
      client.off(event, listener);
      resolve(args);
    };
    client.on(event, listener);
  });
}

async function firstDay(channel) {
  const embed = new EmbedBuilder().setTitle("Status").setDescription("all good").setColor(0x00ff00)
    .addFields({ name: "uptime", value: "3 days" }, { name: "load", value: "low", inline: true })
    .setFooter({ text: "rayguild" });
  const arrived = next(Events.MessageCreate, (m) => m.embeds.length > 0);
  const sent = await channel.send({ embeds: [embed] });
  const [received] = await arrived;
  seen.sent_id = sent.id;
  seen.content = received.content;
  seen.embed = received.embeds[0].toJSON();

  const replied = next(Events.MessageCreate, (m) => m.reference?.messageId === sent.id);
  const reply = await received.reply("pong");
  const [gotReply] = await replied;
  seen.reply = { id: reply.id, type: gotReply.type, reference: gotReply.reference.messageId };

  const reacted = next(Events.MessageReactionAdd, (r) => r.message.id === sent.id);
  await sent.react(THUMBS);
  const [reaction, user] = await reacted;
  seen.reaction = { emoji: reaction.emoji.name, user: user.id, count: reaction.count };
  const fetched = await channel.messages.fetch({ message: sent.id, force: true });
  seen.counts = fetched.reactions.cache.map((r) => [r.emoji.name, r.count, r.me]);

  const typed = next(Events.TypingStart, (t) => t.channel.id === channel.id);
  await channel.sendTyping();
  const [typing] = await typed;
  seen.typing = typing.user.id;

  await sent.pin();
  const pins = await channel.messages.fetchPins();
  seen.pins = pins.items.map((item) => item.message.id);

  const guild = channel.guild;
  const role = await guild.roles.create({ name: "helper" });
  const member = await guild.members.fetch(otherId);
  const updated = next(Events.GuildMemberUpdate, (before, after) => after.id === otherId);
  await member.roles.add(role);
  const [, after] = await updated;
  seen.roles = after.roles.cache.map((r) => r.name).sort();
  seen.me = client.user.id;
}

client.once(Events.ClientReady, async () => {
  let code = 0;
  try {
    await firstDay(await client.channels.fetch(channelId));
  } catch (error) {
    console.error(error, JSON.stringify(seen));
    code = 1;
  }
  await done(code);
  process.exit(code);
});

login();
