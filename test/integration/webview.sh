#!/bin/bash
# webview.sh - the web viewer in Chromium against camfs's own export: the
# live grid over the WebSocket, the JPEG fallback, reconnects, the
# timeline, playback, speed, download, events, notifications, the service
# worker; screenshots at 1280x800 and 390x844.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"
. "$(dirname "$0")/webview_lib.sh"

webview_camfs
wait_http "http://127.0.0.1:$P/"
webview_run webview camfs "http://127.0.0.1:$P" "$cam_PID"
unmount_camfs "$M"
# The frozen fixture is the test's doing.
check_log '\[(a|b)\] offline: stalled'
