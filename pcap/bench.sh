#!/usr/bin/env bash
# Times `mqttspec pcap dump --stats` against tshark on one capture: median
# wall time over RUNS runs, peak RSS (from /usr/bin/time -v), and whether
# both count the same MQTT packets per type.
#   pcap/bench.sh [FILE]      (default: the shared 20k-PUBLISH capture)
#   RUNS=9 PORT=18831 pcap/bench.sh FILE
set -euo pipefail
cd "$(dirname "$0")/.."
FILE=${1:-../shared/captures/big/mosquitto-20k-publish.pcap}
RUNS=${RUNS:-5}
PORT=${PORT:-18831} # the broker port tshark must be told is MQTT

command -v tshark >/dev/null || { echo "bench.sh: tshark is not installed (apt-get install -y tshark)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench.sh: /usr/bin/time is missing (apt-get install -y time)" >&2; exit 2; }
[ -f "$FILE" ] || { echo "bench.sh: $FILE not found" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/mqttspec" ./cmd/mqttspec

# median: the middle of the numbers on stdin.
median() { sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}'; }

# measure NAME CMD...: runs CMD RUNS times with stdout in $tmp/NAME.out and
# sets WALL and CPU (median seconds; CPU = user + system, which a busy
# machine disturbs less than wall time) and RSS (largest peak RSS, kB).
measure() {
  local name=$1
  shift
  local walls=() cpus=() rss=0 start end r
  for _ in $(seq "$RUNS"); do
    start=$(date +%s%N)
    /usr/bin/time -v -o "$tmp/time" "$@" >"$tmp/$name.out" 2>/dev/null
    end=$(date +%s%N)
    walls+=("$(awk "BEGIN {print ($end - $start) / 1e9}")")
    cpus+=("$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$tmp/time")")
    r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time")
    (( r > rss )) && rss=$r
  done
  WALL=$(printf '%s\n' "${walls[@]}" | median)
  CPU=$(printf '%s\n' "${cpus[@]}" | median)
  RSS=$rss
}

measure startup "$tmp/mqttspec" version
startup_wall=$WALL startup_cpu=$CPU startup_rss=$RSS
measure ours "$tmp/mqttspec" pcap dump --stats "$FILE"
ours_wall=$WALL ours_cpu=$CPU ours_rss=$RSS
measure tshark tshark -r "$FILE" -d "tcp.port==$PORT,mqtt" -Y mqtt -T fields -e mqtt.msgtype
tshark_wall=$WALL tshark_cpu=$CPU tshark_rss=$RSS

# Per-type counts as sorted NAME=N lines, from both outputs.
awk '/^types/ {for (i = 2; i < NF; i += 2) print $i "=" $(i+1)}' "$tmp/ours.out" | sort >"$tmp/ours.counts"
tr ',' '\n' <"$tmp/tshark.out" | awk 'NF {n[$1]++} END {
  split("CONNECT CONNACK PUBLISH PUBACK PUBREC PUBREL PUBCOMP SUBSCRIBE SUBACK UNSUBSCRIBE UNSUBACK PINGREQ PINGRESP DISCONNECT AUTH", names, " ")
  for (t in n) print names[t] "=" n[t] }' | sort >"$tmp/tshark.counts"
ours_total=$(awk -F= '{s += $2} END {print s + 0}' "$tmp/ours.counts")
tshark_total=$(awk -F= '{s += $2} END {print s + 0}' "$tmp/tshark.counts")

echo "capture: $FILE ($(stat -c %s "$FILE") bytes), $RUNS runs each, load average $(cut -d' ' -f1 /proc/loadavg)"
row() { printf '| %-64s | %9s | %8s | %11s | %12s |\n' "$@"; }
row "command" "wall s" "CPU s" "peak RSS MB" "MQTT packets"
row "---" "---" "---" "---" "---"
row "mqttspec pcap dump --stats" "$ours_wall" "$ours_cpu" "$(awk "BEGIN {printf \"%.1f\", $ours_rss / 1024}")" "$ours_total"
row "(mqttspec version: the binary's start-up alone)" "$startup_wall" "$startup_cpu" \
  "$(awk "BEGIN {printf \"%.1f\", $startup_rss / 1024}")" "-"
row "tshark -d tcp.port==$PORT,mqtt -Y mqtt -T fields -e mqtt.msgtype" "$tshark_wall" "$tshark_cpu" \
  "$(awk "BEGIN {printf \"%.1f\", $tshark_rss / 1024}")" "$tshark_total"
awk "BEGIN {printf \"speed-up: %.1fx wall, %.1fx CPU\\n\", $tshark_wall / $ours_wall, $tshark_cpu / ($ours_cpu > 0 ? $ours_cpu : 0.005)}"
if diff -u "$tmp/tshark.counts" "$tmp/ours.counts" >"$tmp/diff"; then
  echo "per-type counts: identical ($(paste -sd' ' "$tmp/ours.counts"))"
else
  echo "per-type counts differ (tshark vs mqttspec):"
  cat "$tmp/diff"
  exit 1
fi
