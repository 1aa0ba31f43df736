// A one-line progress bar on stderr for long commands (cli-progress), quiet when stderr is not a terminal
// except for a line every few seconds so CI logs still show progress.
import cliProgress from 'cli-progress';

export class ProgressLine {
  private readonly bar: cliProgress.SingleBar;

  constructor(label: string, total: number) {
    this.bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} {percentage}% eta {eta_formatted} {info}`,
        noTTYOutput: true,
        notTTYSchedule: 5000,
        hideCursor: true,
        barsize: 30,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, { info: '' });
  }

  update(value: number, info = ''): void {
    this.bar.update(value, { info });
  }

  done(): void {
    this.bar.stop();
  }
}
