// Whether snoop lines are coloured. An explicit true/false wins; 'auto' (the default)
// colours only what goes to a terminal, and nothing while NO_COLOR is set (https://no-color.org).

/** `true`: always colour; `false`: never; `'auto'`: a terminal, unless NO_COLOR is set. */
export type ColorSetting = boolean | 'auto';

/** `isTTY`: whether the lines go to a terminal (`process.stdout.isTTY` for stdout). */
export function useColor(setting: ColorSetting | undefined, isTTY: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (typeof setting === 'boolean') return setting;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY === true;
}
