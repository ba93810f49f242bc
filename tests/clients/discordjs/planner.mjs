// A plain discord.js 14 bot pointed at rayguild that plans and guards a guild: creates an external
// scheduled event and hears GuildScheduledEventCreate, creates a keyword auto-moderation rule and
// hears AutoModerationRuleCreate, lists both back, creates a template and a soundboard sound,
// then deletes the event and the rule. Prints one JSON line of what it saw.
// argv: base URL (http://host:port), bot token, guild id.
import {
  AutoModerationActionType,
  AutoModerationRuleEventType,
  AutoModerationRuleTriggerType,
  Client,
  Events,
  GatewayIntentBits,
  GuildScheduledEventEntityType,
  GuildScheduledEventPrivacyLevel,
} from "discord.js";

const [base, token, guildId] = process.argv.slice(2);
const client = new Client({
  intents: [
    GatewayIntentBits.Guilds,
    GatewayIntentBits.GuildScheduledEvents,
    GatewayIntentBits.AutoModerationConfiguration,
  ],
  rest: { api: `${base}/api` },
});
const seen = {};
const timer = setTimeout(() => {
  console.error("timed out", JSON.stringify(seen));
  process.exit(2);
}, 60_000);

const heard = (event) =>
  new Promise((resolve) => client.once(event, (item) => resolve(item)));

client.once(Events.ClientReady, async () => {
  try {
    const guild = await client.guilds.fetch(guildId);
    const createdEvent = heard(Events.GuildScheduledEventCreate);
    const start = new Date(Date.now() + 86_400_000);
    const event = await guild.scheduledEvents.create({
      name: "Launch party",
      scheduledStartTime: start,
      scheduledEndTime: new Date(start.getTime() + 3_600_000),
      privacyLevel: GuildScheduledEventPrivacyLevel.GuildOnly,
      entityType: GuildScheduledEventEntityType.External,
      entityMetadata: { location: "Rooftop" },
    });
    seen.event_heard = (await createdEvent).name;
    const listed = await guild.scheduledEvents.fetch();
    seen.events = [...listed.values()].map((e) => [e.name, e.entityMetadata?.location, e.status]);
    const createdRule = heard(Events.AutoModerationRuleCreate);
    const rule = await guild.autoModerationRules.create({
      name: "No links",
      eventType: AutoModerationRuleEventType.MessageSend,
      triggerType: AutoModerationRuleTriggerType.Keyword,
      triggerMetadata: { keywordFilter: ["*http*"] },
      actions: [{ type: AutoModerationActionType.BlockMessage }],
      enabled: true,
    });
    seen.rule_heard = (await createdRule).name;
    const rules = await guild.autoModerationRules.fetch();
    seen.rules = [...rules.values()].map((r) => [r.name, r.triggerMetadata.keywordFilter]);
    const template = await guild.createTemplate("Party kit", "for launches");
    seen.template = [template.name, template.serializedGuild.name];
    await guild.scheduledEvents.delete(event.id);
    await guild.autoModerationRules.delete(rule.id);
    seen.left = [(await guild.scheduledEvents.fetch()).size, (await guild.autoModerationRules.fetch()).size];
  } catch (error) {
    seen.error = String(error?.stack ?? error);
  }
  console.log(JSON.stringify(seen));
  clearTimeout(timer);
  await client.destroy();
});

client.login(token);
