// What the signed-in user may do in a guild, from its roles (the @everyone role has the guild's
// id): the owner and ADMINISTRATOR may do everything. The server decides in the end (403 50013);
// this only decides which tools to offer.
import { state } from "./store.js";

export const ADMINISTRATOR = 1n << 3n;
export const MANAGE_CHANNELS = 1n << 4n;
export const MANAGE_MESSAGES = 1n << 13n;

export function can(guildId, permission) {
  const guild = state.guilds.get(guildId);
  if (!guild || !state.me) return false;
  if (guild.owner_id === state.me.id) return true;
  const member = state.members.get(guildId)?.get(state.me.id);
  const ids = [guildId, ...((member && member.roles) || [])];
  let bits = 0n;
  for (const id of ids) {
    const role = guild.roles.get(id);
    if (role) bits |= BigInt(role.permissions || "0");
  }
  return (bits & ADMINISTRATOR) !== 0n || (bits & permission) === permission;
}
