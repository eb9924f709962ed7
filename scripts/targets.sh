#!/usr/bin/env bash
# targets.sh - real MQTT brokers on loopback, used as conformance-test targets for mqttspec.
#
#   scripts/targets.sh install [name...]              install what the targets need (root, apt/npm)
#   scripts/targets.sh start [--no-install] [name...] start detached, wait for a CONNACK, print a table
#   scripts/targets.sh stop [name...]                 stop exactly what start started (recorded PIDs)
#   scripts/targets.sh status [name...]               running? answers an MQTT 3.1.1 CONNECT?
#
# name: mosquitto | aedes | rabbitmq | activemq | all   (default: all four)
#
# Everything listens on 127.0.0.1 only. Environment overrides (defaults in brackets):
#   MOSQ_PORT [18831]  RABBIT_PORT [18832]  AMQ_PORT [18833]  AEDES_PORT [18834]
#   RABBIT_DIST_PORT [18852] RABBIT_EPMD_PORT [18859]   (RabbitMQ's Erlang distribution + private epmd)
#   TARGETS_DIR [<repo>/.targets]  RUN_DIR [$TARGETS_DIR/run]  AEDES_DIR [$TARGETS_DIR/aedes]
#   READY_TIMEOUT [60] seconds per broker   STOP_TIMEOUT [30]   AEDES_VERSION [1.2.0]
#   MOSQ_USER [mosquitto if that user exists, else root]  (only used when started as root)
#
# State: $RUN_DIR/<name>/ (wiped on every start), log $RUN_DIR/<name>.log,
#        pid file $RUN_DIR/<name>.pid ("PID STARTTIME"; PID is also the process group id).
# Exit status: start 0 = all requested up, 1 = something failed; status 0 = all up, 3 = not;
#              2 = usage error.
set -uo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
TARGETS_DIR=${TARGETS_DIR:-$REPO_ROOT/.targets}
RUN_DIR=${RUN_DIR:-$TARGETS_DIR/run}
AEDES_DIR=${AEDES_DIR:-$TARGETS_DIR/aedes}
AEDES_VERSION=${AEDES_VERSION:-1.2.0}
BIND=127.0.0.1 # loopback only; deliberately not configurable
MOSQ_PORT=${MOSQ_PORT:-18831}
RABBIT_PORT=${RABBIT_PORT:-18832}
AMQ_PORT=${AMQ_PORT:-18833}
AEDES_PORT=${AEDES_PORT:-18834}
RABBIT_DIST_PORT=${RABBIT_DIST_PORT:-18852}
RABBIT_EPMD_PORT=${RABBIT_EPMD_PORT:-18859}
RABBIT_NODE=${RABBIT_NODE:-mqttspec@localhost}
READY_TIMEOUT=${READY_TIMEOUT:-60}
STOP_TIMEOUT=${STOP_TIMEOUT:-30}
KNOWN_TARGETS=(mosquitto aedes rabbitmq activemq)
POLICY_RC=/usr/sbin/policy-rc.d

note() { printf 'targets: %s\n' "$*" >&2; }

usage() {
    sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
}

# ---------------------------------------------------------------- small helpers

port_of() {
    case $1 in
    mosquitto) echo "$MOSQ_PORT" ;;
    aedes) echo "$AEDES_PORT" ;;
    rabbitmq) echo "$RABBIT_PORT" ;;
    activemq) echo "$AMQ_PORT" ;;
    esac
}

# microseconds since the epoch (bash 5)
now_us() { echo "${EPOCHREALTIME/./}"; }

# seconds (2 decimals) elapsed since $1 (from now_us)
since() {
    local d=$(($(now_us) - $1))
    printf '%d.%02d' $((d / 1000000)) $((d % 1000000 / 10000))
}

# process state letter(s) from ps; empty if no such process
proc_state() { ps -o stat= -p "$1" 2>/dev/null | tr -d ' '; }

# a live process: exists and is not a zombie (kill -0 also succeeds on zombies)
is_alive() {
    local s
    s=$(proc_state "$1")
    [[ -n $s && $s != Z* ]]
}

# start time (clock ticks after boot, /proc/PID/stat field 22) - guards against PID reuse
start_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) } # drop "pid (comm) ", comm may contain spaces
    awk '{print $20}' <<<"$stat"
}

# live (non-zombie) members of process group $1
group_members() {
    ps -eo pid=,pgid=,stat= | awk -v g="$1" '$2 == g && $3 !~ /^Z/ {print $1}'
}

port_busy() { [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]; }

# "who holds the port": process names and pids from ss
port_holder() {
    local users
    users=$(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:(.*)' | sort -u | tr '\n' ' ')
    echo "${users:-unknown process (ss shows no owner)}"
}

# pid listening on a port (first one), for processes we need to track (epmd)
port_pid() {
    ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2
}

# Send a raw MQTT 3.1.1 CONNECT (clean session, keepalive 60, client id "mqttspec-probe") and
# read the 4-byte CONNACK. Sets PROBE_REPLY to the hex bytes seen; success = 20 02 xx 00.
PROBE_REPLY=
mqtt_probe() {
    # shellcheck disable=SC2016 # $0/$1 belong to the inner bash
    PROBE_REPLY=$(timeout "${PROBE_TIMEOUT:-3}" bash -c '
        exec 3<>"/dev/tcp/$0/$1" || exit 1
        printf "\x10\x1a\x00\x04MQTT\x04\x02\x00\x3c\x00\x0emqttspec-probe" >&3
        head -c 4 <&3 | od -An -tx1
        printf "\xe0\x00" >&3 2>/dev/null' "$BIND" "$1" 2>/dev/null | tr -d ' \n')
    [[ $PROBE_REPLY == 2002??00 ]]
}

# pid file: "PID STARTTICKS"
read_pidfile() { # name -> sets PF_PID PF_TICKS; false if no pid file
    PF_PID='' PF_TICKS=''
    [[ -s $RUN_DIR/$1.pid ]] || return 1
    read -r PF_PID PF_TICKS <"$RUN_DIR/$1.pid"
    [[ $PF_PID =~ ^[0-9]+$ ]]
}

# true if the pid file of $1 names a live process that is still the one we started
ours_running() {
    read_pidfile "$1" || return 1
    is_alive "$PF_PID" || return 1
    [[ $(start_ticks "$PF_PID") == "$PF_TICKS" ]]
}

write_pidfile() { # name pid
    echo "$2 $(start_ticks "$2" || echo -)" >"$RUN_DIR/$1.pid"
}

# ---------------------------------------------------------------- install

apt_packages_for() {
    case $1 in
    mosquitto) echo mosquitto mosquitto-clients ;;
    rabbitmq) echo rabbitmq-server ;;
    # Debian's activemq lacks the MQTT client library its MQTT transport needs: without
    # libmqtt-client-java + hawtdispatch the connector accepts TCP and never answers.
    activemq) echo activemq libmqtt-client-java libhawtdispatch-java ;;
    aedes) command -v node >/dev/null && command -v npm >/dev/null || echo nodejs npm ;;
    esac
}

deb_installed() {
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

aedes_installed() {
    local pj=$AEDES_DIR/node_modules/aedes/package.json
    [[ -f $pj ]] && grep -q "\"version\": *\"$AEDES_VERSION\"" "$pj"
}

missing_for() { # name -> prints what is missing (apt package names, or "npm:aedes")
    local p
    for p in $(apt_packages_for "$1"); do deb_installed "$p" || echo "$p"; done
    if [[ $1 == aedes ]] && ! aedes_installed; then echo "npm:aedes@$AEDES_VERSION"; fi
}

# Keep Debian maintainer scripts from starting daemons while installing (rabbitmq-server
# would otherwise start a system-wide node listening on 0.0.0.0:5672). An existing
# policy-rc.d that already answers 101 is left alone; anything else is set aside and restored.
POLICY_CREATED=0
POLICY_SAVED=
block_daemon_starts() {
    local rc=0
    if [[ -e $POLICY_RC ]]; then
        "$POLICY_RC" mqttspec-check start >/dev/null 2>&1 || rc=$?
        if ((rc == 101)); then return 0; fi
        POLICY_SAVED=$(mktemp "$POLICY_RC.mqttspec.XXXXXX")
        mv -f "$POLICY_RC" "$POLICY_SAVED"
    fi
    printf '#!/bin/sh\n# temporary, created by mqttspec scripts/targets.sh during apt-get install\nexit 101\n' >"$POLICY_RC"
    chmod 755 "$POLICY_RC"
    POLICY_CREATED=1
}

unblock_daemon_starts() {
    if ((POLICY_CREATED)); then rm -f "$POLICY_RC"; POLICY_CREATED=0; fi
    if [[ -n $POLICY_SAVED ]]; then mv -f "$POLICY_SAVED" "$POLICY_RC"; POLICY_SAVED=; fi
}
trap unblock_daemon_starts EXIT
trap 'unblock_daemon_starts; exit 130' INT TERM

write_aedes_server() {
    mkdir -p "$AEDES_DIR"
    cat >"$AEDES_DIR/server.mjs" <<'JS'
// Generated by scripts/targets.sh - an aedes MQTT broker on 127.0.0.1.
// usage: node server.mjs PORT
import net from 'node:net'
import { Aedes } from 'aedes'

const port = Number(process.argv[2])
const broker = await Aedes.createBroker()
const server = net.createServer(broker.handle)
server.listen({ host: '127.0.0.1', port }, () => {
  console.log(`aedes ${broker.id} listening on 127.0.0.1:${port}`)
})
const shutdown = () => server.close(() => broker.close(() => process.exit(0)))
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
JS
}

install_aedes() {
    mkdir -p "$AEDES_DIR"
    [[ -f $AEDES_DIR/package.json ]] ||
        printf '{\n  "name": "mqttspec-aedes-target",\n  "private": true,\n  "type": "module"\n}\n' >"$AEDES_DIR/package.json"
    note "npm install aedes@$AEDES_VERSION in $AEDES_DIR"
    (cd "$AEDES_DIR" && npm install --save-exact --no-audit --no-fund --loglevel=error "aedes@$AEDES_VERSION" >/dev/null) || {
        note "npm install aedes@$AEDES_VERSION failed"
        return 1
    }
    write_aedes_server
}

cmd_install() {
    local t m apt_missing=() npm_aedes=0
    for t in "$@"; do
        for m in $(missing_for "$t"); do
            case $m in
            npm:*) npm_aedes=1 ;;
            *) [[ " ${apt_missing[*]} " == *" $m "* ]] || apt_missing+=("$m") ;;
            esac
        done
    done
    if ((${#apt_missing[@]})); then
        if (($(id -u) != 0)); then
            note "need root to apt-get install: ${apt_missing[*]}"
            return 1
        fi
        note "apt-get install ${apt_missing[*]}"
        block_daemon_starts
        local rc=0
        apt-get update -qq >/dev/null || rc=$?
        if ((rc == 0)); then
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                "${apt_missing[@]}" >/dev/null || rc=$?
        fi
        unblock_daemon_starts
        if ((rc)); then
            note "apt-get failed (exit $rc)"
            return 1
        fi
    fi
    if ((npm_aedes)); then install_aedes || return 1; fi
    for t in "$@"; do
        if [[ -n $(missing_for "$t") ]]; then
            note "$t: still missing after install: $(missing_for "$t" | tr '\n' ' ')"
            return 1
        fi
    done
    note "installed and up to date: $*"
}

# ---------------------------------------------------------------- launching

# spawn NAME CMD... : run CMD detached in its own session/process group, output to
# $RUN_DIR/NAME.log, and record "PID STARTTICKS" in $RUN_DIR/NAME.pid (PID == PGID).
spawn() {
    local name=$1 tmp=$RUN_DIR/$1.pid.new i
    shift
    rm -f "$tmp"
    # shellcheck disable=SC2016 # $$/$0/$@ belong to the inner bash
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$tmp" "$@" >"$RUN_DIR/$name.log" 2>&1 </dev/null &
    for ((i = 0; i < 100; i++)); do
        [[ -s $tmp ]] && break
        sleep 0.05
    done
    [[ -s $tmp ]] || { note "$name: launcher did not report a pid"; return 1; }
    write_pidfile "$name" "$(cat "$tmp")"
    rm -f "$tmp"
}

launch_mosquitto() {
    local d=$RUN_DIR/mosquitto user
    mkdir -p "$d"
    {
        echo "# generated by scripts/targets.sh"
        echo "listener $MOSQ_PORT $BIND"
        echo "allow_anonymous true"
        echo "persistence false"
        echo "log_dest stderr" # unbuffered, unlike stdout
        echo "log_type all"
        echo "connection_messages true"
        if (($(id -u) == 0)); then
            # as root, mosquitto switches to this user right after reading its config
            user=${MOSQ_USER:-$(id -u mosquitto >/dev/null 2>&1 && echo mosquitto || echo root)}
            echo "user $user"
        fi
    } >"$d/mosquitto.conf"
    spawn mosquitto /usr/sbin/mosquitto -c "$d/mosquitto.conf"
}

launch_aedes() {
    [[ -f $AEDES_DIR/server.mjs ]] || write_aedes_server
    mkdir -p "$RUN_DIR/aedes"
    (cd "$RUN_DIR/aedes" && spawn aedes node "$AEDES_DIR/server.mjs" "$AEDES_PORT")
}

# environment for /usr/lib/rabbitmq/bin/{rabbitmq-server,rabbitmqctl} running from $RUN_DIR
rabbit_env() {
    local d=$RUN_DIR/rabbitmq
    RABBIT_ENV=(
        "HOME=$d"
        "RABBITMQ_NODENAME=$RABBIT_NODE"
        "RABBITMQ_CONFIG_FILE=$d/rabbitmq.conf"
        "RABBITMQ_ENABLED_PLUGINS_FILE=$d/enabled_plugins"
        "RABBITMQ_MNESIA_BASE=$d/mnesia"
        "RABBITMQ_LOG_BASE=$d/log"
        "RABBITMQ_PID_FILE=$d/beam.pid"
        "RABBITMQ_DIST_PORT=$RABBIT_DIST_PORT"
        "ERL_EPMD_ADDRESS=$BIND"
        "ERL_EPMD_PORT=$RABBIT_EPMD_PORT"
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}"
    )
}

launch_rabbitmq() {
    local d=$RUN_DIR/rabbitmq kv
    mkdir -p "$d/log" "$d/mnesia"
    cat >"$d/rabbitmq.conf" <<EOF
# generated by scripts/targets.sh: no AMQP listener, MQTT on loopback only
listeners.tcp = none
mqtt.listeners.tcp.default = $BIND:$RABBIT_PORT
mqtt.allow_anonymous = true
mqtt.default_user = guest
mqtt.default_pass = guest
mqtt.vhost = /
mqtt.exchange = amq.topic
loopback_users.guest = true
log.console = true
log.console.level = info
log.console.use_colors = off
log.file = false
EOF
    echo '[rabbitmq_mqtt].' >"$d/enabled_plugins"
    rabbit_env
    {
        echo "# . this file, then e.g. /usr/lib/rabbitmq/bin/rabbitmqctl status"
        for kv in "${RABBIT_ENV[@]}"; do printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"; done
    } >"$d/env.sh"
    # /usr/sbin/rabbitmq-server would su to user rabbitmq and drop this environment
    (cd "$d" && spawn rabbitmq env "${RABBIT_ENV[@]}" /usr/lib/rabbitmq/bin/rabbitmq-server)
}

launch_activemq() {
    local d=$RUN_DIR/activemq jar
    mkdir -p "$d/conf" "$d/data" "$d/tmp" "$d/lib"
    # activemq.jar puts $activemq.base/lib/*.jar on the class path: add the MQTT client deps
    for jar in mqtt-client hawtdispatch hawtdispatch-transport; do
        ln -sfn "/usr/share/java/$jar.jar" "$d/lib/$jar.jar"
    done
    cat >"$d/conf/activemq.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by scripts/targets.sh: in-memory broker with a single MQTT connector on loopback -->
<beans xmlns="http://www.springframework.org/schema/beans"
       xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
       xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans.xsd
                           http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core" brokerName="mqttspec"
          persistent="false" useJmx="false" advisorySupport="false" schedulerSupport="false"
          dataDirectory="$d/data">
    <transportConnectors>
      <transportConnector name="mqtt" uri="mqtt://$BIND:$AMQ_PORT?maximumConnections=1000&amp;wireFormat.maxFrameSize=104857600"/>
    </transportConnectors>
  </broker>
</beans>
EOF
    cat >"$d/conf/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.logger.org.springframework=WARN
log4j.logger.org.apache.xbean=WARN
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=%d %-5p [%t] %c - %m%n
EOF
    # Started with java directly: /usr/bin/activemq forces ACTIVEMQ_BASE=/var/lib/activemq and su's.
    (cd "$d" && spawn activemq java -Xms64m -Xmx256m -Djava.awt.headless=true \
        -Djava.io.tmpdir="$d/tmp" \
        -Dlog4j.configuration="file:$d/conf/log4j.properties" \
        -Dactivemq.home=/usr/share/activemq -Dactivemq.base="$d" \
        -Dactivemq.conf="$d/conf" -Dactivemq.data="$d/data" -Dactivemq.classpath="$d/conf" \
        -jar /usr/share/activemq/bin/activemq.jar start "xbean:file:$d/conf/activemq.xml")
}

# poll until the broker answers a CONNECT with CONNACK 0; sets READY_AFTER
wait_ready() { # name port t0
    local name=$1 port=$2 t0=$3 deadline=$((SECONDS + READY_TIMEOUT))
    read_pidfile "$name" || return 1
    while ((SECONDS < deadline)); do
        if ! is_alive "$PF_PID"; then
            note "$name: process $PF_PID exited during startup"
            return 1
        fi
        if mqtt_probe "$port"; then
            READY_AFTER=$(since "$t0")
            return 0
        fi
        sleep 0.2
    done
    note "$name: no CONNACK on $BIND:$port within ${READY_TIMEOUT}s (last reply: '${PROBE_REPLY:-none}')"
    return 1
}

# Remember RabbitMQ's private epmd (it daemonizes into its own session, so it is not in our
# process group). Whatever epmd listens on our private port and was started after our
# rabbitmq-server (start ticks, arg 1) is ours: start_one checked the port was free before.
record_epmd() { # leader_start_ticks
    local pid ticks
    [[ -n ${1:-} && $1 != - ]] || return 0
    pid=$(port_pid "$RABBIT_EPMD_PORT")
    [[ -n $pid && $(cat "/proc/$pid/comm" 2>/dev/null) == epmd ]] || return 0
    ticks=$(start_ticks "$pid") || return 0
    ((ticks >= $1)) && write_pidfile rabbitmq-epmd "$pid"
    return 0
}

declare -A ROW_PID ROW_READY ROW_STATE
start_one() {
    local name=$1 port p t0
    port=$(port_of "$name")
    ROW_PID[$name]=- ROW_READY[$name]=-
    if ours_running "$name"; then
        note "$name: port $port is already in use by $name started earlier (pid $PF_PID); run '$0 stop $name' first"
        ROW_STATE[$name]="port in use"
        ROW_PID[$name]=$PF_PID
        return 1
    fi
    local ports=("$port")
    [[ $name == rabbitmq ]] && ports+=("$RABBIT_DIST_PORT" "$RABBIT_EPMD_PORT")
    for p in "${ports[@]}"; do
        if port_busy "$p"; then
            note "$name: refusing to start, port $p is already in use by: $(port_holder "$p")"
            ROW_STATE[$name]="port $p in use"
            return 1
        fi
    done
    # leftovers of a previous run that died on its own: make sure nothing of it survives
    stop_one "$name" quiet
    mkdir -p "$RUN_DIR"
    rm -rf "${RUN_DIR:?}/$name" "$RUN_DIR/$name.log"
    t0=$(now_us)
    if ! "launch_$name"; then
        ROW_STATE[$name]=FAILED
        return 1
    fi
    read_pidfile "$name"
    ROW_PID[$name]=$PF_PID
    if wait_ready "$name" "$port" "$t0"; then
        [[ $name == rabbitmq ]] && record_epmd "$PF_TICKS"
        ROW_STATE[$name]=up
        ROW_READY[$name]=${READY_AFTER}s
        note "$name: ready on tcp://$BIND:$port after ${READY_AFTER}s (pid $PF_PID)"
        return 0
    fi
    ROW_STATE[$name]=FAILED
    stop_one "$name" quiet # first, so that the log holds everything the broker had to say
    note "$name: failed to start; last lines of $RUN_DIR/$name.log:"
    tail -n 25 "$RUN_DIR/$name.log" 2>/dev/null | sed 's/^/    | /' >&2
    return 1
}

cmd_start() {
    local t rc=0 missing=()
    for t in "$@"; do
        [[ -n $(missing_for "$t") ]] && missing+=("$t")
    done
    if ((${#missing[@]})); then
        if ((NO_INSTALL)); then
            for t in "${missing[@]}"; do
                note "$t: not installed ($(missing_for "$t" | tr '\n' ' ')) and --no-install given"
                ROW_STATE[$t]="not installed" ROW_PID[$t]=- ROW_READY[$t]=-
            done
            rc=1
        else
            cmd_install "${missing[@]}" || return 1
            missing=()
        fi
    fi
    for t in "$@"; do
        [[ " ${missing[*]} " == *" $t "* ]] && continue
        start_one "$t" || rc=1
    done
    printf '\n%-10s %-24s %-8s %-8s %s\n' NAME URL PID READY STATE
    for t in "$@"; do
        printf '%-10s %-24s %-8s %-8s %s\n' "$t" "tcp://$BIND:$(port_of "$t")" \
            "${ROW_PID[$t]}" "${ROW_READY[$t]}" "${ROW_STATE[$t]}"
    done
    echo "logs: $RUN_DIR/<name>.log"
    return $rc
}

# ---------------------------------------------------------------- stopping

# Live processes belonging to a started target: process $1, the members of its group, and all
# their descendants. Needed because some children leave the group (Erlang's erl_child_setup,
# inet_gethost and the disk monitor shell call setsid) and would otherwise outlive a stop.
target_tree() { # pgid
    ps -eo pid=,ppid=,pgid=,stat= | awk -v g="$1" '
        { pid[NR] = $1; ppid[NR] = $2; st[NR] = $4; if ($3 == g || $1 == g) keep[$1] = 1 }
        END {
            do {
                changed = 0
                for (i = 1; i <= NR; i++)
                    if (!(pid[i] in keep) && (ppid[i] in keep)) { keep[pid[i]] = 1; changed = 1 }
            } while (changed)
            for (i = 1; i <= NR; i++) if ((pid[i] in keep) && st[i] !~ /^Z/) print pid[i]
        }'
}

# TREE_PIDS/TREE_TICKS: snapshot of a target's processes, taken before signalling, so that
# children re-parented to init while shutting down are still recognised (by start time).
TREE_PIDS=()
declare -A TREE_TICKS
snapshot_tree() { # pgid
    local p
    TREE_PIDS=()
    TREE_TICKS=()
    for p in $(target_tree "$1"); do
        TREE_PIDS+=("$p")
        TREE_TICKS[$p]=$(start_ticks "$p" || echo -)
    done
}

# snapshot processes that are still alive (same start time), plus anything new in the group
tree_left() { # pgid
    local p
    {
        for p in "${TREE_PIDS[@]}"; do
            is_alive "$p" && [[ $(start_ticks "$p") == "${TREE_TICKS[$p]}" ]] && echo "$p"
        done
        group_members "$1"
    } | sort -un
}

wait_tree_gone() { # pgid seconds; false on timeout
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        [[ -z $(tree_left "$1") ]] && return 0
        sleep 0.1
    done
    [[ -z $(tree_left "$1") ]]
}

# stop what $RUN_DIR/$pidname.pid describes; never touches anything else
stop_group() { # pidname label quiet
    local pidname=$1 label=$2 quiet=$3 pid t0 cur left
    read_pidfile "$pidname" || { [[ -n $quiet ]] || note "$label: not running (no pid file)"; return 0; }
    pid=$PF_PID
    cur=$(start_ticks "$pid" || true)
    if [[ -n $cur && $cur != "$PF_TICKS" ]]; then
        note "$label: pid $pid now belongs to another process; not touching it"
        rm -f "$RUN_DIR/$pidname.pid"
        return 0
    fi
    snapshot_tree "$pid"
    if ((${#TREE_PIDS[@]} == 0)); then
        [[ -n $quiet ]] || note "$label: not running (pid $pid gone)"
        rm -f "$RUN_DIR/$pidname.pid"
        return 0
    fi
    t0=$(now_us)
    # the leader first: lets wrappers (rabbitmq-server) shut their children down cleanly
    if is_alive "$pid"; then kill -TERM "$pid" 2>/dev/null; else kill -TERM -- "-$pid" 2>/dev/null; fi
    if ! wait_tree_gone "$pid" "$STOP_TIMEOUT"; then
        left=$(tree_left "$pid" | tr '\n' ' ')
        note "$label: still running after ${STOP_TIMEOUT}s, SIGTERM to: $left"
        # shellcheck disable=SC2086 # word splitting wanted
        kill -TERM $left 2>/dev/null
        if ! wait_tree_gone "$pid" 5; then
            left=$(tree_left "$pid" | tr '\n' ' ')
            note "$label: SIGKILL to: $left"
            # shellcheck disable=SC2086
            kill -KILL $left 2>/dev/null
            wait_tree_gone "$pid" 5 || note "$label: survived SIGKILL: $(tree_left "$pid" | tr '\n' ' ')"
        fi
    fi
    note "$label: stopped (pid $pid, ${#TREE_PIDS[@]} process(es)) in $(since "$t0")s"
    rm -f "$RUN_DIR/$pidname.pid"
}

stop_one() { # name [quiet]
    local name=$1 quiet=${2:-} leader_ticks=
    read_pidfile "$name" && leader_ticks=$PF_TICKS
    stop_group "$name" "$name" "$quiet"
    # epmd may have been spawned only while rabbitmq was starting or shutting down: look again
    [[ $name == rabbitmq ]] && ! ours_running rabbitmq-epmd && record_epmd "$leader_ticks"
    if [[ $name == rabbitmq ]] && ours_running rabbitmq-epmd; then
        # ask our private epmd (only it listens on this port) to exit, stop_group makes sure
        local i epmd_pid=$PF_PID
        ERL_EPMD_PORT=$RABBIT_EPMD_PORT epmd -kill >/dev/null 2>&1 || true
        for ((i = 0; i < 30; i++)); do is_alive "$epmd_pid" || break; sleep 0.1; done
        if is_alive "$epmd_pid"; then
            stop_group rabbitmq-epmd "rabbitmq: private epmd on :$RABBIT_EPMD_PORT" ""
        else
            note "rabbitmq: private epmd on :$RABBIT_EPMD_PORT stopped (pid $epmd_pid)"
        fi
    fi
    [[ $name == rabbitmq ]] && rm -f "$RUN_DIR/rabbitmq-epmd.pid"
    return 0
}

cmd_stop() {
    local t
    for t in "$@"; do stop_one "$t"; done
    return 0
}

# ---------------------------------------------------------------- status

cmd_status() {
    local t port proc mqtt rc=0
    printf '%-10s %-24s %-22s %s\n' NAME URL PROCESS MQTT
    for t in "$@"; do
        port=$(port_of "$t")
        if ours_running "$t"; then
            proc="running (pid $PF_PID)"
        elif read_pidfile "$t"; then
            proc="dead (stale pid file)"
            rc=3
        else
            proc=stopped
            rc=3
        fi
        if mqtt_probe "$port"; then
            mqtt="answers (CONNACK ${PROBE_REPLY})"
        elif port_busy "$port"; then
            mqtt="port open, no CONNACK (reply '${PROBE_REPLY}')"
            rc=3
        else
            mqtt="-"
            rc=3
        fi
        if [[ $proc != running* ]] && port_busy "$port"; then
            mqtt="$mqtt; port held by $(port_holder "$port")"
        fi
        printf '%-10s %-24s %-22s %s\n' "$t" "tcp://$BIND:$port" "$proc" "$mqtt"
    done
    return $rc
}

# ---------------------------------------------------------------- main

main() {
    local cmd=${1:-} a t names=()
    NO_INSTALL=0
    [[ -n $cmd ]] || { usage >&2; return 2; }
    shift
    for a in "$@"; do
        case $a in
        --no-install) NO_INSTALL=1 ;;
        all | mosquitto | aedes | rabbitmq | activemq)
            for t in "${KNOWN_TARGETS[@]}"; do
                [[ ($a == all || $a == "$t") && " ${names[*]} " != *" $t "* ]] && names+=("$t")
            done
            ;;
        -h | --help) usage; return 0 ;;
        *) note "unknown argument: $a"; usage >&2; return 2 ;;
        esac
    done
    ((${#names[@]})) || names=("${KNOWN_TARGETS[@]}")
    case $cmd in
    install) cmd_install "${names[@]}" ;;
    start) cmd_start "${names[@]}" ;;
    stop) cmd_stop "${names[@]}" ;;
    status) cmd_status "${names[@]}" ;;
    -h | --help | help) usage ;;
    *) note "unknown command: $cmd"; usage >&2; return 2 ;;
    esac
}

main "$@"
