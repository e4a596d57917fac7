package whip

import "testing"

func TestAskForWideband(t *testing.T) {
	const ask = "maxplaybackrate=16000;sprop-maxcapturerate=16000;maxaveragebitrate=40000"
	tests := []struct{ name, in, want string }{
		{
			name: "fmtp copied from the offer",
			in:   "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n",
			want: "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1;" + ask + "\r\n",
		},
		{
			name: "values the offer had are replaced",
			in:   "a=rtpmap:109 OPUS/48000/2\r\na=fmtp:109 maxplaybackrate=48000; stereo=1;MaxAverageBitrate=128000\r\n",
			want: "a=rtpmap:109 OPUS/48000/2\r\na=fmtp:109 stereo=1;" + ask + "\r\n",
		},
		{
			name: "no fmtp line: one is added",
			in:   "a=rtpmap:111 opus/48000/2\r\na=sendonly\r\n",
			want: "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 " + ask + "\r\na=sendonly\r\n",
		},
		{
			name: "two Opus sections, LF endings",
			in:   "a=rtpmap:111 opus/48000/2\na=rtpmap:0 PCMU/8000\na=fmtp:0 x=1\nm=audio 9 RTP 111\na=rtpmap:111 opus/48000/2\na=fmtp:111 stereo=1\n",
			want: "a=rtpmap:111 opus/48000/2\na=fmtp:111 " + ask + "\na=rtpmap:0 PCMU/8000\na=fmtp:0 x=1\nm=audio 9 RTP 111\na=rtpmap:111 opus/48000/2\na=fmtp:111 stereo=1;" + ask + "\n",
		},
		{
			name: "no Opus: unchanged",
			in:   "a=rtpmap:0 PCMU/8000\r\na=fmtp:0 x=1\r\n",
			want: "a=rtpmap:0 PCMU/8000\r\na=fmtp:0 x=1\r\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := askForWideband(tc.in); got != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}
