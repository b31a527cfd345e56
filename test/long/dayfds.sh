#!/bin/bash
# dayfds.sh (long suite) - fdlimit.sh at full size: day.mp4 over 1,440
# segments (a day of one-minute segments) with camfs under ulimit -n 1024.
SEGMENTS=${SEGMENTS:-1440} ULIMIT=1024 exec bash "$(dirname "$0")/../integration/fdlimit.sh"
