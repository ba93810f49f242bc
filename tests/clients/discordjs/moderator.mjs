// A plain discord.js 14 moderation bot pointed at rayguild: bans a member deleting their last
// hour of messages, waits for the GuildBanAdd event, reads the audit log and the ban list back,
// prints one JSON line of what it saw.
// argv: base URL (http://host:port), bot token, guild id, the id of the member to ban.
import { AuditLogEvent, Events, GatewayIntentBits } from "discord.js";
import { bot } from "./bootstrap.mjs";

const seen = {};
const { client, args: [guildId, spammerId], login, done } = bot(
  [GatewayIntentBits.Guilds, GatewayIntentBits.GuildModeration],
  seen,
);

const banned = new Promise((resolve) => {
  client.on(Events.GuildBanAdd, (ban) => {
    seen.ban_event = ban.user.id;
    resolve();
  });
});

client.once(Events.ClientReady, async () => {
  try {
    const guild = await client.guilds.fetch(guildId);
    await guild.members.ban(spammerId, { reason: "spam from discord.js", deleteMessageSeconds: 3600 });
    await banned;
    const logs = await guild.fetchAuditLogs({ type: AuditLogEvent.MemberBanAdd, limit: 10 });
    seen.audit = [...logs.entries.values()].map((e) => [e.action, e.reason, e.targetId, e.executorId]);
    const all = await guild.fetchAuditLogs({ limit: 50 });
    seen.actions = [...all.entries.values()].map((e) => e.action);
    const bans = await guild.bans.fetch();
    seen.bans = [...bans.values()].map((b) => [b.user.id, b.reason]);
  } catch (error) {
    seen.error = String(error?.stack ?? error);
  }
  await done();
});

login();
