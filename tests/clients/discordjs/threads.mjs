// A plain discord.js 14 bot pointed at rayguild working with threads: starts a public thread from
// a message and posts in it (and hears its own message there), creates a private thread, adds a
// member, posts, fetches the members, lists active and archived threads, archives and locks.
// Prints one JSON line with what it saw. argv: base URL, bot token, channel id, member id to add.
import { ChannelType, Events, GatewayIntentBits } from "discord.js";
import { bot } from "./bootstrap.mjs";

const seen = {};
const { client, args: [channelId, memberId], login, done } = bot(
  [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages],
  seen,
);
const next = (event, check) =>
  new Promise((resolve) => {
    const listener = (...args) => {
      if (check(...args)) {
        client.off(event, listener);
        resolve(args);
      }
    };
    client.on(event, listener);
  });

client.once(Events.ClientReady, async () => {
  const channel = await client.channels.fetch(channelId);
  const starter = await channel.send("a topic from discord.js");
  // discord.js caches the thread from the REST answer; THREAD_CREATE then updates that entry.
  const pub = await starter.startThread({ name: "js-public", autoArchiveDuration: 60 });
  seen.public = pub.id;
  seen.public_type = pub.type;
  seen.cached = client.channels.cache.get(pub.id)?.isThread() ?? false;
  const arrived = next(Events.MessageCreate, (m) => m.channelId === pub.id);
  const sent = await pub.send("hello from the js public thread");
  seen.public_message = sent.id;
  const [own] = await arrived;
  seen.own_message_in_thread = own.id === sent.id && own.channel.isThread();

  const priv = await channel.threads.create({ name: "js-private", type: ChannelType.PrivateThread, invitable: false });
  seen.private = priv.id;
  seen.private_type = priv.type;
  seen.invitable = priv.invitable;
  await priv.members.add(memberId);
  const secret = await priv.send("js members only");
  seen.private_message = secret.id;
  const members = await priv.members.fetch({ withMember: true });
  seen.members = [...members.keys()].sort();
  seen.member_has_guild_member = members.get(memberId)?.guildMember?.id === memberId;
  const active = await channel.guild.channels.fetchActiveThreads();
  seen.active = [...active.threads.keys()].sort();
  await priv.edit({ archived: true, locked: true });
  seen.archived = priv.archived && priv.locked;
  const archived = await channel.threads.fetchArchived({ type: "private" });
  seen.archived_private = [...archived.threads.keys()];
  await pub.setArchived(true);
  const archivedPublic = await channel.threads.fetchArchived();
  seen.archived_public = [...archivedPublic.threads.keys()];
  await done();
});

login();
