// A one-line progress bar on stderr for long commands (cli-progress). When stderr is not a terminal (CI logs) it
// prints a plain line at most every few seconds instead, from update() itself: the work is often synchronous, so a
// timer would never fire.
import cliProgress from 'cli-progress';

const LOG_EVERY_MS = 5000;

export class ProgressLine {
  private readonly bar?: cliProgress.SingleBar;
  private lastLog = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {
    if (!process.stderr.isTTY) return;
    this.bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} {percentage}% eta {eta_formatted} {info}`,
        hideCursor: true,
        barsize: 30,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, { info: '' });
  }

  update(value: number, info = ''): void {
    if (this.bar) {
      this.bar.update(value, { info });
      return;
    }
    const now = performance.now();
    if (now - this.lastLog >= LOG_EVERY_MS || value === this.total) {
      this.lastLog = now;
      process.stderr.write(`${this.label} ${value}/${this.total} ${info}\n`);
    }
  }

  done(): void {
    this.bar?.stop();
  }
}
