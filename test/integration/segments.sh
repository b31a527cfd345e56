#!/bin/bash
# segments.sh - a segment that starts well into its camera's session (and
# so does its audio) presents from 0 with its true duration to ffprobe,
# GStreamer, mediainfo, mpv and VLC, and plays whole. (Clips across
# segments stay frame-exact: test_clip and clips.sh.)
. "$(dirname "$0")/lib.sh"

chmod 755 "$T"   # VLC reads the store as an unprivileged user
start_fixture cam --gop 15 --mount /v=h264+aac
camfs_config segment_seconds=2 -- v=rtsp://127.0.0.1:$cam_PORT/v
start_camfs -d --no-mount -o config="$T/camfs.conf"
# Five segments: the fourth starts about 6 s into the session.
five() { [ "$(count_segments "$T/store" v)" -ge 5 ]; }
wait_until 40 five || fail "fewer than 5 segments in 40 s"
stop_camfs
check_log

seg=$(segments "$T/store" v | sed -n 4p)
read -r _ _ frames < <(video_span "$seg")
# Its true duration: from its first sample to the end of its last, audio
# (which runs a little past the last frame) included.
want=$(ffprobe -v error -show_entries packet=pts_time,duration_time -of csv=p=0 "$seg" |
	awk -F, 'NR == 1 || $1 < s { s = $1 } { e = $1 + $2; if (e > m) m = e } END { print m - s }')
near() { awk -v a="$1" -v b="$2" -v tol="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= tol) }'; }

read -r start dur < <(ffprobe -v error -show_entries format=start_time,duration -of csv=p=0 "$seg" | tr , ' ')
near "$start" 0 0.1 || fail "ffprobe: $seg starts at $start s"
near "$dur" "$want" 0.3 || fail "ffprobe: $seg lasts $dur s, its samples $want s"
ok "ffprobe: 4th segment starts at $start s, lasts $dur s ($frames frames)"

command -v gst-discoverer-1.0 >/dev/null || fail "no gst-discoverer-1.0 (contrib/setup.sh installs it)"
gst=$(gst-discoverer-1.0 "$seg" | sed -n 's/^ *Duration: //p')   # H:MM:SS.nnnnnnnnn
gst_s=$(awk -F: '{ print $1 * 3600 + $2 * 60 + $3 }' <<<"$gst")
near "$gst_s" "$want" 0.3 || fail "GStreamer: $seg lasts $gst"
ok "GStreamer: $gst"

command -v mediainfo >/dev/null || fail "no mediainfo (contrib/setup.sh installs it)"
mi=$(mediainfo --Inform='General;%Duration%' "$seg")   # ms
near "$mi" "$(echo "$want * 1000" | bc -l)" 200 || fail "mediainfo: $seg lasts $mi ms"
ok "mediainfo: $mi ms"

# mpv starts at 0 and plays every frame to its end.
timeout 30 mpv --no-config --vo=null --ao=null --term-playing-msg='start=${=time-pos}' \
	--term-status-msg= "$seg" >"$T/mpv.out" 2>&1 || fail "mpv: $(tail -3 "$T/mpv.out")"
mpv_start=$(sed -n 's/^start=//p' "$T/mpv.out" | head -1)
near "${mpv_start:-99}" 0 0.1 || fail "mpv starts $seg at ${mpv_start:-nothing}"
ok "mpv: starts at $mpv_start s"

# VLC passes on as many frames as from the same samples in a plain MP4
# (its remuxer leaves out the last frame or so of any file), from 0.
command -v cvlc >/dev/null || fail "no cvlc (contrib/setup.sh installs vlc-bin)"
mkdir -m 777 "$T/vlc"
ffmpeg -v error -nostdin -i "$seg" -c copy "$T/vlc/plain.mp4" || fail "ffmpeg remux of $seg"
for f in "$seg" "$T/vlc/plain.mp4"; do
	runuser -u nobody -- timeout 30 cvlc --intf dummy --play-and-exit \
		--sout "#std{access=file,mux=mp4,dst=$T/vlc/out.mp4}" "$f" vlc://quit >"$T/vlc.log" 2>&1 ||
		fail "VLC on $f: $(tail -3 "$T/vlc.log")"
	read -r vstart _ vframes < <(video_span "$T/vlc/out.mp4")
	echo "$vstart $vframes"
	rm -f "$T/vlc/out.mp4"
done >"$T/vlc.out"
read -r vstart vframes < <(head -1 "$T/vlc.out")
read -r _ pframes < <(tail -1 "$T/vlc.out")
[ "$vframes" = "$pframes" ] && [ "$vframes" -ge $((frames - 2)) ] ||
	fail "VLC passed $vframes frames of the segment, $pframes of its plain copy ($frames in it)"
near "$vstart" 0 0.1 || fail "VLC starts the segment at $vstart s"
ok "VLC: $vframes frames from $vstart s, as from a plain copy"
