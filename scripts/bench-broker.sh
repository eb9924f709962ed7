#!/bin/sh
# Reference broker vs mosquitto, side by side with one client harness (BenchmarkThroughput in
# reference-broker/bench_test.go): delivered messages/s for QoS 0 and 1, 1 -> 1 and 1 -> 10
# subscribers, 64-byte payloads, MQTT 3.1.1 over loopback TCP. Prints a Markdown table.
# Usage: scripts/bench-broker.sh [MESSAGES]   (default 100000 published per case)
set -eu
n=${1:-100000}
cd "$(dirname "$0")/.."
go test -run '^$' -bench 'Throughput' -benchtime "${n}x" ./reference-broker/ | awk -v n="$n" '
/^BenchmarkThroughput\// {
	split($1, part, "/"); sub(/-[0-9]+$/, "", part[3])
	for (i = 2; i <= NF; i++) if ($(i) == "msgs/s") rate[part[2], part[3]] = $(i - 1)
	if (!(part[2] in seen)) { seen[part[2]] = 1; order[++cases] = part[2] }
}
/mosquitto not measured/ { print; }
END {
	printf "%d messages published per case\n\n", n
	print "| case | reference msgs/s | mosquitto msgs/s | ratio |"
	print "|---|---:|---:|---:|"
	for (i = 1; i <= cases; i++) {
		c = order[i]; r = rate[c, "reference"]; m = rate[c, "mosquitto"]
		ratio = (m > 0) ? sprintf("%.1f×", r / m) : "n/a"
		printf "| %s | %.0f | %s | %s |\n", c, r, (m > 0) ? sprintf("%.0f", m) : "n/a", ratio
	}
}'
