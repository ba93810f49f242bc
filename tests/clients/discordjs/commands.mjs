// A plain discord.js 14 slash-command bot pointed at rayguild (driven by
// tests/gateway/test_slash_bots.py). It sets one global command (/echo, answered at once
// with a button, its option autocompleted) and guild commands (/ask: a modal; /slow: deferred then
// edited; /secret: ephemeral, then a followup; /stop), prints "SYNCED", answers whatever comes, and at /stop prints one JSON line.
// argv: base URL (http://host:port), bot token, guild id.
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  Events,
  GatewayIntentBits,
  MessageFlags,
  ModalBuilder,
  TextInputBuilder,
  TextInputStyle,
} from "discord.js";
import { bot } from "./bootstrap.mjs";

const seen = { invoked: [] };
const { client, args: [guildId], login, done } = bot([GatewayIntentBits.Guilds], seen);

client.once(Events.ClientReady, async () => {
  const global = await client.application.commands.set([
    {
      name: "echo",
      description: "Say it back",
      options: [{ type: 3, name: "text", description: "what to say", required: true, autocomplete: true }],
    },
  ]);
  seen.global = [...global.values()].map((c) => c.name);
  const guild = client.guilds.cache.get(guildId);
  const local = await guild.commands.set([
    { name: "ask", description: "A modal" },
    { name: "slow", description: "Deferred, then edited" },
    { name: "secret", description: "Ephemeral, then a followup" },
    { name: "stop", description: "Stop the bot" },
  ]);
  seen.guild = [...local.values()].map((c) => c.name).sort();
  console.log("SYNCED");
});

client.on(Events.InteractionCreate, async (interaction) => {
  if (interaction.isButton()) {
    seen.clicked_by = interaction.user.username;
    await interaction.update({ content: "clicked", components: [] });
    return;
  }
  if (interaction.isAutocomplete()) {
    const typed = interaction.options.getFocused();
    await interaction.respond([{ name: `${typed}-suggested`, value: `${typed}-suggested` }]);
    return;
  }
  if (interaction.isModalSubmit()) {
    await interaction.reply(`you said ${interaction.fields.getTextInputValue("answer")}`);
    return;
  }
  if (!interaction.isChatInputCommand()) return;
  seen.invoked.push([interaction.commandName, interaction.user.username]);
  if (interaction.commandName === "echo") {
    const row = new ActionRowBuilder().addComponents(
      new ButtonBuilder().setCustomId("again").setLabel("Again").setStyle(ButtonStyle.Primary),
    );
    const reply = await interaction.reply({
      content: `echo: ${interaction.options.getString("text")}`,
      components: [row],
      withResponse: true,
    });
    seen.echo_message_id = reply.resource.message.id;
  } else if (interaction.commandName === "ask") {
    const input = new TextInputBuilder().setCustomId("answer").setLabel("Answer").setStyle(TextInputStyle.Short);
    const modal = new ModalBuilder().setCustomId("ask-form").setTitle("Tell me");
    modal.addComponents(new ActionRowBuilder().addComponents(input));
    await interaction.showModal(modal);
  } else if (interaction.commandName === "slow") {
    await interaction.deferReply();
    seen.slow_edited = (await interaction.editReply("done slowly")).content;
  } else if (interaction.commandName === "secret") {
    await interaction.reply({ content: "only you", flags: MessageFlags.Ephemeral });
    const followup = await interaction.followUp("and a followup");
    seen.followup_interaction = followup.interactionMetadata?.id ?? null;
  } else if (interaction.commandName === "stop") {
    await interaction.reply("bye");
    await done();
  }
});

login();
