#!/usr/bin/env bash
# certify.sh - run the full conformance suite against real brokers and the embedded
# reference broker, and write one matrix of cases x brokers.
#
#   scripts/certify.sh [--out DIR] [--no-install] [name...]
#
# name: mosquitto | aedes | rabbitmq | activemq (default: all four, best effort: a broker
# that cannot be started is reported and left out). Brokers named on the command line are
# required: if one cannot be started or run, the exit status is 1.
#
# A broker already running under scripts/targets.sh is used as it is and left running;
# the ones this script starts are stopped when it ends (also on Ctrl-C).
# Each broker is run with its built-in profile (conformance/profiles/<name>.profile).
#
# Output in DIR (default reports-out/certify):
#   <name>.json, <name>.html    one run per broker, reference.{json,html} for the reference broker
#   matrix.html                 all columns side by side (mqttspec report --matrix)
#   summary.txt                 one line per broker: passed, failed, skipped
#
# Environment: MQTTSPEC [bin/mqttspec, built when missing], RUN_TIMEOUT [300] seconds per
# broker run, RUN_FLAGS [] extra flags for `mqttspec run`, and the port variables of
# scripts/targets.sh (MOSQ_PORT AEDES_PORT RABBIT_PORT AMQ_PORT).
# Exit status: 0 = matrix written and every required broker certified, 1 = a required broker
# could not be certified or a run failed to complete, 2 = usage error.
set -uo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
TARGETS="$SCRIPT_DIR/targets.sh"
MQTTSPEC=${MQTTSPEC:-$REPO_ROOT/bin/mqttspec}
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
RUN_FLAGS=${RUN_FLAGS:-}
OUT=$REPO_ROOT/reports-out/certify
KNOWN=(mosquitto aedes rabbitmq activemq)

note() { printf 'certify: %s\n' "$*" >&2; }
usage() { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

port_of() {
    case $1 in
    mosquitto) echo "${MOSQ_PORT:-18831}" ;;
    rabbitmq) echo "${RABBIT_PORT:-18832}" ;;
    activemq) echo "${AMQ_PORT:-18833}" ;;
    aedes) echo "${AEDES_PORT:-18834}" ;;
    esac
}

names=()
required=0
install_flag=()
while (($#)); do
    case $1 in
    --out)
        [[ $# -ge 2 ]] || { usage >&2; exit 2; }
        OUT=$2
        shift
        ;;
    --no-install) install_flag=(--no-install) ;;
    -h | --help) usage; exit 0 ;;
    mosquitto | aedes | rabbitmq | activemq)
        [[ " ${names[*]} " == *" $1 "* ]] || names+=("$1")
        required=1
        ;;
    *) note "unknown argument: $1"; usage >&2; exit 2 ;;
    esac
    shift
done
((${#names[@]})) || names=("${KNOWN[@]}")

if [[ ! -x $MQTTSPEC ]]; then
    note "building $MQTTSPEC"
    (cd "$REPO_ROOT" && go build -o "$MQTTSPEC" ./cmd/mqttspec) || exit 1
fi
mkdir -p "$OUT" || exit 1
# nothing from an earlier run may end up looking like part of this one
for name in reference "${KNOWN[@]}"; do
    rm -f "$OUT/$name".{json,html,log,start.log}
done
rm -f "$OUT/matrix.html" "$OUT/summary.txt"

# Stop exactly what this script started, whatever way it ends.
started=()
cleanup() {
    ((${#started[@]})) || return 0
    note "stopping what certify started: ${started[*]}"
    "$TARGETS" stop "${started[@]}" >/dev/null 2>&1
    started=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

declare -A state summary
rc=0
jsons=()

# certify_one NAME RUN-ARGS...: one suite run into $OUT/NAME.*, its summary line kept for the table.
certify_one() {
    local name=$1 log status line
    shift
    log="$OUT/$name.log"
    # shellcheck disable=SC2086 # RUN_FLAGS is a list of flags
    timeout --kill-after=10 "$RUN_TIMEOUT" "$MQTTSPEC" run "$@" $RUN_FLAGS --quiet \
        --json "$OUT/$name.json" --html "$OUT/$name.html" >"$log" 2>&1
    status=$?
    line=$(grep -E '^(PASS|FAIL) ' "$log" | tail -n 1 | sed -E 's/^(PASS|FAIL) +[^ ]+: /\1 /')
    # exit 0 = no MUST failure, 1 = MUST failures (what certification is here to show)
    if [[ ($status == 0 || $status == 1) && -s $OUT/$name.json ]]; then
        summary[$name]=$line
        jsons+=("$OUT/$name.json")
        return 0
    fi
    if ((status == 124 || status == 137)); then
        summary[$name]="run stopped after ${RUN_TIMEOUT}s (RUN_TIMEOUT)"
    else
        summary[$name]="run failed (exit $status): $(tail -n 1 "$log")"
    fi
    return 1
}

note "reference broker (embedded)"
certify_one reference --profile reference || rc=1

for name in "${names[@]}"; do
    port=$(port_of "$name")
    if "$TARGETS" status "$name" >/dev/null 2>&1; then
        state[$name]="already running"
    else
        note "starting $name"
        if "$TARGETS" start "${install_flag[@]}" "$name" >"$OUT/$name.start.log" 2>&1; then
            started+=("$name")
            state[$name]="started"
        else
            started+=("$name") # a half-started broker is stopped too
            state[$name]="could not be started (see $OUT/$name.start.log)"
            summary[$name]="-"
            note "$name: ${state[$name]}"
            ((required)) && rc=1
            continue
        fi
    fi
    note "$name on tcp://127.0.0.1:$port (${state[$name]})"
    certify_one "$name" --target "tcp://127.0.0.1:$port" --profile "$name" || rc=1
done
cleanup

{
    printf '%-10s %-18s %s\n' BROKER TARGET RESULT
    printf '%-10s %-18s %s\n' reference embedded "${summary[reference]:--}"
    for name in "${names[@]}"; do
        printf '%-10s %-18s %s\n' "$name" "127.0.0.1:$(port_of "$name")" "${summary[$name]:--}"
    done
} | tee "$OUT/summary.txt"

if ((${#jsons[@]} == 0)); then
    note "no run completed; no matrix"
    exit 1
fi
"$MQTTSPEC" report --matrix "$OUT/matrix.html" "${jsons[@]}" >/dev/null || exit 1
echo "matrix: $OUT/matrix.html"
exit $rc
