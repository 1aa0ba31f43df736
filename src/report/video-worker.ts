// The piscina worker of VideoEncoder: one rollout video per task (replay, render, ffmpeg); stateless between jobs.
import { encodeEpisodeVideo, type VideoJob } from './video.ts';

export default function encode(job: VideoJob): Promise<string> {
  return encodeEpisodeVideo(job);
}
