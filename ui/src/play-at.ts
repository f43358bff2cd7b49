// "Play from here" for a time of a recording, shared by the comments and the transcript panes:
// a seek when the player already holds that recording (playing or paused), else the recording
// is started there (and becomes what the player bar shows).
import { api, type Call, type Recording } from './api';
import { useShared } from './context';

export function usePlayAt(recording: Recording, call: Call): (ms: number) => Promise<void> {
  const { player, setNowPlaying, report } = useShared();
  const isCurrent = player?.recording_id === recording.id;
  return async (ms: number) => {
    try {
      if (isCurrent && player && player.state !== 'ended' && player.state !== 'failed' && player.state !== 'idle') {
        await api.playerSeek(ms);
      } else {
        setNowPlaying({ recording, call });
        await api.playerPlay(recording.id, ms);
      }
    } catch (e) {
      report(e);
    }
  };
}
