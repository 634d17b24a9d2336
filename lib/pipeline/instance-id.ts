/**
 * The parts of a fan-out instance id such as `teacher[fold=2]` or `x[a=1,b=2]`: its stage and the
 * value of each foreach variable, as written in the id (strings). A plain stage id has no values.
 */
export function parseInstanceId(id: string): { stage: string; values: Record<string, string> } {
  const match = /^([^[\]]+)\[(.*)\]$/.exec(id);
  if (!match) return { stage: id, values: {} };
  const values: Record<string, string> = {};
  for (const part of match[2]!.split(',')) {
    const eq = part.indexOf('=');
    values[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return { stage: match[1]!, values };
}
