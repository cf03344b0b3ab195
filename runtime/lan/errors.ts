/** A discovery file (hosts file, cache file, cluster file) that exists but cannot be used. */
export class LanFileError extends Error {
  readonly code = 'LAN_FILE' as const;
  readonly file: string;
  constructor(file: string, problem: string, options?: ErrorOptions) {
    super(`${file}: ${problem}`, options);
    this.name = 'LanFileError';
    this.file = file;
  }
}
