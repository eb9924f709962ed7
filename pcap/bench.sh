#!/usr/bin/env bash
# Times `mqttspec pcap dump --stats` against tshark on one capture: median
# wall time and mean CPU time over RUNS runs (hyperfine, commands started
# without a shell so neither side pays for one), peak RSS (largest of the
# runs of /usr/bin/time -v), and whether both count the same MQTT packets
# per type.
#   pcap/bench.sh [FILE]      (default: the shared 20k-PUBLISH capture)
#   RUNS=30 PORT=18831 pcap/bench.sh FILE
set -euo pipefail
cd "$(dirname "$0")/.."
FILE=${1:-../shared/captures/big/mosquitto-20k-publish.pcap}
RUNS=${RUNS:-20}
PORT=${PORT:-18831} # the broker port tshark must be told is MQTT

for tool in tshark hyperfine; do
  command -v $tool >/dev/null || { echo "bench.sh: $tool is not installed (apt-get install -y $tool)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "bench.sh: /usr/bin/time is missing (apt-get install -y time)" >&2; exit 2; }
[ -f "$FILE" ] || { echo "bench.sh: $FILE not found" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Built as `make build` builds it.
CGO_ENABLED=0 go build -o "$tmp/mqttspec" ./cmd/mqttspec

# measure NAME CMD...: sets WALL (median s), CPU (mean user + system s) and
# RSS (largest peak RSS, kB), and leaves one run's stdout in $tmp/NAME.out.
measure() {
  local name=$1
  shift
  hyperfine -N --style none --warmup 2 --runs "$RUNS" --export-json "$tmp/$name.json" -- "$(printf '%q ' "$@")" >/dev/null
  read -r WALL CPU < <(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("%.4f %.4f" % (r["median"], r["user"] + r["system"]))' "$tmp/$name.json")
  RSS=0
  for _ in 1 2 3; do
    /usr/bin/time -v -o "$tmp/time" "$@" >"$tmp/$name.out" 2>/dev/null
    local r
    r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time")
    if ((r > RSS)); then RSS=$r; fi
  done
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
awk "BEGIN {printf \"speed-up: %.1fx wall, %.1fx CPU\\n\", $tshark_wall / $ours_wall, $tshark_cpu / $ours_cpu}"
if diff -u "$tmp/tshark.counts" "$tmp/ours.counts" >"$tmp/diff"; then
  echo "per-type counts: identical ($(paste -sd' ' "$tmp/ours.counts"))"
else
  echo "per-type counts differ (tshark vs mqttspec):"
  cat "$tmp/diff"
  exit 1
fi
