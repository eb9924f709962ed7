#!/usr/bin/env bash
# Times `mqttspec pcap dump --stats` (counts) and `mqttspec pcap dump` (a
# line per packet) against tshark on one capture and checks that mqttspec and
# tshark count the same MQTT packets per type.
#
# The two are timed in alternating rounds (hyperfine, commands started
# without a shell so neither side pays for one): each round runs each
# mqttspec command OURS times and tshark once, so that a machine whose speed drifts (a shared
# VM does) slows both alike. Reported: the median over rounds of each side's
# wall time, CPU time (user + system) and of the per-round ratio, with the
# lowest and highest ratio; peak RSS is the largest of three runs of
# /usr/bin/time -v.
#   pcap/bench.sh [FILE]      (default: the shared 20k-PUBLISH capture)
#   ROUNDS=15 OURS=5 PORT=18831 pcap/bench.sh FILE
set -euo pipefail
cd "$(dirname "$0")/.."
FILE=${1:-../shared/captures/big/mosquitto-20k-publish.pcap}
ROUNDS=${ROUNDS:-15}
OURS=${OURS:-5}
PORT=${PORT:-18831} # the broker port tshark must be told is MQTT

for tool in tshark hyperfine python3; do
  command -v $tool >/dev/null || { echo "bench.sh: $tool is not installed (apt-get install -y $tool)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "bench.sh: /usr/bin/time is missing (apt-get install -y time)" >&2; exit 2; }
[ -f "$FILE" ] || { echo "bench.sh: $FILE not found" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Built as `make build` builds it.
CGO_ENABLED=0 go build -o "$tmp/mqttspec" ./cmd/mqttspec

ours=("$tmp/mqttspec" pcap dump --stats "$FILE")
lines=("$tmp/mqttspec" pcap dump "$FILE")
tshark=(tshark -r "$FILE" -d "tcp.port==$PORT,mqtt" -Y mqtt -T fields -e mqtt.msgtype)

# time NAME RUNS CMD...: appends hyperfine's JSON for RUNS runs to $tmp/NAME.
time_it() {
  local name=$1 runs=$2
  shift 2
  hyperfine -N --style none --runs "$runs" --export-json "$tmp/run.json" -- "$(printf '%q ' "$@")" >/dev/null
  cat "$tmp/run.json" >>"$tmp/$name"
  echo >>"$tmp/$name"
}

# peak NAME CMD...: the largest peak RSS (kB) of three runs; leaves the
# output of the last in $tmp/NAME.out.
peak() {
  local name=$1 rss=0 r
  shift
  for _ in 1 2 3; do
    /usr/bin/time -v -o "$tmp/time" "$@" >"$tmp/$name.out" 2>/dev/null
    r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time")
    if ((r > rss)); then rss=$r; fi
  done
  echo "$rss"
}

# Warm the page cache and both binaries, then alternate.
"${ours[@]}" >/dev/null
"${tshark[@]}" >/dev/null
time_it startup 10 "$tmp/mqttspec" version
for _ in $(seq "$ROUNDS"); do
  time_it ours "$OURS" "${ours[@]}"
  time_it lines "$OURS" "${lines[@]}"
  time_it tshark 1 "${tshark[@]}"
done
startup_rss=$(peak startup "$tmp/mqttspec" version)
ours_rss=$(peak ours "${ours[@]}")
lines_rss=$(peak lines "${lines[@]}")
tshark_rss=$(peak tshark "${tshark[@]}")

# Per-type counts as sorted NAME=N lines, from both outputs.
awk '/^types/ {for (i = 2; i < NF; i += 2) print $i "=" $(i+1)}' "$tmp/ours.out" | sort >"$tmp/ours.counts"
tr ',' '\n' <"$tmp/tshark.out" | awk 'NF {n[$1]++} END {
  split("CONNECT CONNACK PUBLISH PUBACK PUBREC PUBREL PUBCOMP SUBSCRIBE SUBACK UNSUBSCRIBE UNSUBACK PINGREQ PINGRESP DISCONNECT AUTH", names, " ")
  for (t in n) print names[t] "=" n[t] }' | sort >"$tmp/tshark.counts"
ours_total=$(awk -F= '{s += $2} END {print s + 0}' "$tmp/ours.counts")
tshark_total=$(awk -F= '{s += $2} END {print s + 0}' "$tmp/tshark.counts")

echo "capture: $FILE ($(stat -c %s "$FILE") bytes), $ROUNDS rounds of $OURS runs of each mqttspec command and 1 tshark run, load average $(cut -d' ' -f1 /proc/loadavg)"
python3 - "$tmp" "$PORT" "$startup_rss" "$ours_rss" "$tshark_rss" "$lines_rss" "$ours_total" "$tshark_total" "$(wc -l <"$tmp/lines.out")" <<'EOF'
import json, statistics, sys

tmp, port = sys.argv[1], sys.argv[2]
rss = [int(x) / 1024 for x in sys.argv[3:7]]
totals = sys.argv[7:10]

def rounds(name):
    """Per round: (median wall s, mean CPU s) of that round's runs."""
    out = []
    for chunk in open(f"{tmp}/{name}").read().split("\n\n"):
        if chunk.strip():
            r = json.loads(chunk)["results"][0]
            out.append((statistics.median(r["times"]), r["user"] + r["system"]))
    return out

startup, ours, lines, tshark = rounds("startup"), rounds("ours"), rounds("lines"), rounds("tshark")
med = lambda xs: statistics.median(xs)
wall = [t[0] / o[0] for o, t in zip(ours, tshark)]
cpu = [t[1] / o[1] for o, t in zip(ours, tshark)]
lwall = [t[0] / o[0] for o, t in zip(lines, tshark)]
rows = [
    ("mqttspec pcap dump --stats", med(o[0] for o in ours), med(o[1] for o in ours), rss[1], totals[0]),
    ("mqttspec pcap dump (a line per packet)", med(o[0] for o in lines), med(o[1] for o in lines), rss[3], totals[2] + " lines"),
    ("(mqttspec version: the binary's start-up alone)", med(s[0] for s in startup), med(s[1] for s in startup), rss[0], "-"),
    (f"tshark -d tcp.port=={port},mqtt -Y mqtt -T fields -e mqtt.msgtype", med(t[0] for t in tshark), med(t[1] for t in tshark), rss[2], totals[1]),
]
print("| %-64s | %9s | %8s | %11s | %12s |" % ("command", "wall s", "CPU s", "peak RSS MB", "MQTT packets"))
print("| %-64s | %9s | %8s | %11s | %12s |" % ("---", "---", "---", "---", "---"))
for name, w, c, r, n in rows:
    print("| %-64s | %9.4f | %8.4f | %11.1f | %12s |" % (name, w, c, r, n))
print("speed-up of --stats (median of per-round ratios): %.1fx wall (%.1f-%.1f), %.1fx CPU (%.1f-%.1f)" % (
    med(wall), min(wall), max(wall), med(cpu), min(cpu), max(cpu)))
print("speed-up of the line dump: %.1fx wall (%.1f-%.1f)" % (med(lwall), min(lwall), max(lwall)))
EOF
if diff -u "$tmp/tshark.counts" "$tmp/ours.counts" >"$tmp/diff"; then
  echo "per-type counts: identical ($(paste -sd' ' "$tmp/ours.counts"))"
else
  echo "per-type counts differ (tshark vs mqttspec):"
  cat "$tmp/diff"
  exit 1
fi
