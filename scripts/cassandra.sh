#!/usr/bin/env bash
# Run a real single-node Apache Cassandra 5.0 for rayguild tests, without
# Docker: the server jars come from Maven Central (scripts/cassandra/pom.xml)
# and CassandraDaemon is started as a plain JVM (JDK 11 or 17).
#
#   scripts/cassandra.sh fetch             resolve jars into .cache/cassandra/lib
#   scripts/cassandra.sh start [DATA_DIR]  start in background, wait for CQL
#                                          (default: a fresh data dir)
#   scripts/cassandra.sh stop              SIGTERM, wait, SIGKILL after timeout
#   scripts/cassandra.sh restart           stop + start on the SAME data dir
#   scripts/cassandra.sh status            0 = up and answering CQL, 3 = down
#   scripts/cassandra.sh clean             delete data dirs except the current
#
# Environment (all optional):
#   CASSANDRA_PORT          CQL port                     (default 9042)
#   CASSANDRA_STORAGE_PORT  internode port               (default 7000)
#   CASSANDRA_HEAP          -Xms/-Xmx                    (default 512m)
#   CASSANDRA_START_TIMEOUT seconds to wait for CQL      (default 180)
#   CASSANDRA_STOP_TIMEOUT  seconds before SIGKILL       (default 60)
#   CASSANDRA_STATE_DIR     pid/logs/data dirs, for a second independent node
#                           (default <repo>/.cache/cassandra; jars are shared)
#   JAVA_HOME / JAVA        which java to use (must be 11 or 17)
#
# State in <repo>/.cache/cassandra/: lib/ (jars), pid, datadir, port,
# data-<timestamp>/ (data, commitlog, generated cassandra.yaml),
# logs/system.log (INFO) and logs/stdout.log (JVM stdout/stderr); the
# previous run's logs are kept as *.log.1.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
CONF_DIR="$SCRIPT_DIR/cassandra"
LIB="$ROOT/.cache/cassandra/lib"
FETCH_LOCK="$ROOT/.cache/cassandra/fetch.lock"
STATE="${CASSANDRA_STATE_DIR:-$ROOT/.cache/cassandra}"
LOGS="$STATE/logs"
PID_FILE="$STATE/pid"
DATADIR_FILE="$STATE/datadir"
PORT_FILE="$STATE/port"
LOCK_FILE="$STATE/lock"

CASSANDRA_VERSION="5.0.8"
CQL_PORT="${CASSANDRA_PORT:-9042}"
STORAGE_PORT="${CASSANDRA_STORAGE_PORT:-7000}"
HEAP="${CASSANDRA_HEAP:-512m}"
START_TIMEOUT="${CASSANDRA_START_TIMEOUT:-180}"
STOP_TIMEOUT="${CASSANDRA_STOP_TIMEOUT:-60}"
KEEP_DATA_DIRS=5   # fresh starts prune older data-* dirs beyond this many

log() { echo "cassandra.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# Serialise start/stop/restart/clean on one state dir (fd 9, held until exit;
# the JVM does not inherit it).
LOCKED=0
lock() {
    [ "$LOCKED" = 1 ] && return 0
    mkdir -p "$STATE"
    exec 9>"$LOCK_FILE"
    if command -v flock >/dev/null 2>&1; then
        flock -w 600 9 || die "could not take $LOCK_FILE"
    fi
    LOCKED=1
}

# --------------------------------------------------------------- java ----
java_major() {  # $1 = java binary -> major version on stdout
    "$1" -XshowSettings:properties -version 2>&1 |
        sed -n 's/^ *java\.specification\.version = \(1\.\)\{0,1\}\([0-9]*\).*/\2/p'
}

find_java() {
    local cand major
    for cand in "${JAVA:-}" "${JAVA_HOME:+$JAVA_HOME/bin/java}" \
                "$(command -v java 2>/dev/null || true)" \
                /usr/lib/jvm/java-17-openjdk-*/bin/java \
                /usr/lib/jvm/java-11-openjdk-*/bin/java; do
        [ -n "$cand" ] && [ -x "$cand" ] || continue
        major="$(java_major "$cand")"
        case "$major" in
            11|17) echo "$cand"; return 0 ;;
        esac
    done
    die "need a JDK 11 or 17 (Cassandra 5.0 runs on nothing else); set JAVA_HOME"
}

# -------------------------------------------------------------- fetch ----
pom_stamp() {
    echo "$CASSANDRA_VERSION $(cksum <"$CONF_DIR/pom.xml")"
}

jars_present() {
    [ -f "$LIB/.complete" ] && [ "$(cat "$LIB/.complete")" = "$(pom_stamp)" ] &&
        [ -f "$LIB/cassandra-all-$CASSANDRA_VERSION.jar" ]
}

cmd_fetch() {
    jars_present && return 0
    mkdir -p "$(dirname "$LIB")"
    exec 8>"$FETCH_LOCK"
    command -v flock >/dev/null 2>&1 && { flock -w 900 8 || die "could not take $FETCH_LOCK"; }
    if jars_present; then exec 8>&-; return 0; fi   # another caller fetched
    command -v mvn >/dev/null 2>&1 || die "mvn not found (needed once to fetch the Cassandra jars)"
    log "fetching cassandra-all $CASSANDRA_VERSION and its dependencies (Maven Central / ~/.m2)..."
    local tmp="$LIB.tmp.$$" out="$(dirname "$LIB")/fetch.log" t0
    t0="$(date +%s)"
    rm -rf "$tmp"
    # Output goes to fetch.log and is shown only on failure (mvn -q still
    # prints colour escapes, and a harmless "${jmc5.path}" parent-pom note).
    if ! mvn -q -B -Dstyle.color=never -f "$CONF_DIR/pom.xml" \
            dependency:copy-dependencies -DincludeScope=runtime \
            -DoutputDirectory="$tmp" >"$out" 2>&1 ||
       [ ! -f "$tmp/cassandra-all-$CASSANDRA_VERSION.jar" ]; then
        cat "$out" >&2
        rm -rf "$tmp"
        die "mvn could not fetch the Cassandra jars (log above, also in $out)"
    fi
    pom_stamp >"$tmp/.complete"
    rm -rf "$LIB"
    mv "$tmp" "$LIB"
    exec 8>&-
    log "fetched $(ls "$LIB" | wc -l) jars into $LIB in $(($(date +%s) - t0)) s"
}

# ---------------------------------------------------------- helpers ----
# pid from the pid file if that process is alive and is a CassandraDaemon
# (guards against a recycled pid).
running_pid() {
    local pid cmd
    [ -f "$PID_FILE" ] || return 1
    pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    case "$cmd" in
        *org.apache.cassandra.service.CassandraDaemon*) echo "$pid" ;;
        *) return 1 ;;
    esac
}

port_open() {  # $1 = port
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

current_port() {
    cat "$PORT_FILE" 2>/dev/null || echo "$CQL_PORT"
}

show_log_tail() {
    local f
    for f in "$LOGS/system.log" "$LOGS/stdout.log"; do
        [ -s "$f" ] || continue
        echo "----- tail -n 40 $f -----" >&2
        tail -n 40 "$f" >&2
    done
}

prune_data_dirs() {  # keep the newest $KEEP_DATA_DIRS data-* dirs
    ls -1dt "$STATE"/data-* 2>/dev/null | tail -n +$((KEEP_DATA_DIRS + 1)) |
        while IFS= read -r d; do rm -rf "$d"; done
    return 0
}

# -------------------------------------------------------------- start ----
cmd_start() {
    local data_dir="${1:-}" pid
    lock

    if pid="$(running_pid)"; then
        local port; port="$(current_port)"
        if [ -n "$data_dir" ] && [ "$data_dir" != "$(cat "$DATADIR_FILE" 2>/dev/null)" ]; then
            log "warning: already running on $(cat "$DATADIR_FILE" 2>/dev/null), not on $data_dir"
        fi
        if port_open "$port"; then
            log "already running (pid $pid, CQL 127.0.0.1:$port, data $(cat "$DATADIR_FILE" 2>/dev/null))"
            return 0
        fi
        log "pid $pid is running but 127.0.0.1:$port is not answering yet; waiting"
        wait_ready "$pid" "$port"
        return 0
    fi
    rm -f "$PID_FILE"

    if port_open "$CQL_PORT"; then
        die "127.0.0.1:$CQL_PORT is already in use by a process this script did not start (set CASSANDRA_PORT)"
    fi

    cmd_fetch
    local java; java="$(find_java)"

    if [ -z "$data_dir" ]; then
        data_dir="$STATE/data-$(date +%Y%m%d-%H%M%S)-$$"
        mkdir -p "$data_dir"
        prune_data_dirs
    fi
    mkdir -p "$data_dir/triggers"
    data_dir="$(cd "$data_dir" && pwd)"
    echo "$data_dir" >"$DATADIR_FILE"
    echo "$CQL_PORT" >"$PORT_FILE"

    local yaml="$data_dir/cassandra.yaml"
    sed -e "s|@DATA_DIR@|$data_dir|g" \
        -e "s|@CQL_PORT@|$CQL_PORT|g" \
        -e "s|@STORAGE_PORT@|$STORAGE_PORT|g" \
        "$CONF_DIR/cassandra.yaml.in" >"$yaml"

    mkdir -p "$LOGS"
    if [ -f "$LOGS/system.log" ]; then mv -f "$LOGS/system.log" "$LOGS/system.log.1"; fi
    if [ -f "$LOGS/stdout.log" ]; then mv -f "$LOGS/stdout.log" "$LOGS/stdout.log.1"; fi

    local jamm
    jamm="$(ls "$LIB"/jamm-*.jar 2>/dev/null | head -n 1)"

    # As root, CassandraDaemon mlockall()s the whole JVM (RLIMIT_MEMLOCK does
    # not apply with CAP_IPC_LOCK), which faults in the full heap: ~900 MB RSS
    # instead of ~400-600 MB, for nothing on a swapless test box. Drop
    # CAP_IPC_LOCK so mlockall fails softly (one WARN in the log).
    local nolock=()
    if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 &&
       setpriv --bounding-set -ipc_lock true 2>/dev/null; then
        nolock=(setpriv --bounding-set -ipc_lock)
    fi

    log "starting Cassandra $CASSANDRA_VERSION: CQL 127.0.0.1:$CQL_PORT, data $data_dir"
    # setsid: own session, so the node outlives this script and a terminal's
    # Ctrl-C. A non-interactive shell's background child is not a
    # process-group leader, so setsid (and setpriv) exec java in place and $!
    # is the JVM's pid (running_pid checks the command line).
    (
        exec 8>&- 9>&-   # do not let the JVM inherit (and hold) the locks
        cd "$data_dir"
        exec setsid ${nolock[@]+"${nolock[@]}"} "$java" @"$CONF_DIR/jvm.args" \
            -Xms"$HEAP" -Xmx"$HEAP" \
            ${jamm:+-javaagent:"$jamm"} \
            -Dcassandra.config="file://$yaml" \
            -Dcassandra.storagedir="$data_dir" \
            -Dcassandra.logdir="$LOGS" \
            -Dcassandra.triggers_dir="$data_dir/triggers" \
            -Dlogback.configurationFile="file://$CONF_DIR/logback.xml" \
            -XX:ErrorFile="$LOGS/hs_err_%p.log" \
            -cp "$LIB/*" \
            org.apache.cassandra.service.CassandraDaemon
    ) </dev/null >"$LOGS/stdout.log" 2>&1 &
    pid=$!
    echo "$pid" >"$PID_FILE"
    wait_ready "$pid" "$CQL_PORT"
}

wait_ready() {  # $1 = pid, $2 = port
    local pid="$1" port="$2" start now
    start="$(date +%s)"
    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PID_FILE"
            show_log_tail
            die "Cassandra (pid $pid) exited during startup"
        fi
        # Port open *and* our own log says so (not some other listener).
        if port_open "$port" &&
           grep -q "Starting listening for CQL clients on /127.0.0.1:$port" "$LOGS/system.log" 2>/dev/null; then
            now="$(date +%s)"
            log "ready after $((now - start)) s (pid $pid, CQL 127.0.0.1:$port)"
            return 0
        fi
        now="$(date +%s)"
        if [ $((now - start)) -ge "$START_TIMEOUT" ]; then
            show_log_tail
            log "no CQL on 127.0.0.1:$port after $START_TIMEOUT s; stopping pid $pid"
            stop_pid "$pid"
            exit 1
        fi
        sleep 0.5
    done
}

# --------------------------------------------------------------- stop ----
stop_pid() {  # $1 = pid
    local pid="$1" i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_TIMEOUT * 4; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "pid $pid still alive after $STOP_TIMEOUT s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 40; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
    fi
    rm -f "$PID_FILE"
}

cmd_stop() {
    local pid t0
    lock
    if ! pid="$(running_pid)"; then
        rm -f "$PID_FILE"
        log "not running"
        return 0
    fi
    log "stopping pid $pid"
    t0="$(date +%s)"
    stop_pid "$pid"
    log "stopped after $(($(date +%s) - t0)) s"
}

# ------------------------------------------------------------ restart ----
cmd_restart() {
    local data_dir=""
    lock   # held across stop + start
    [ -f "$DATADIR_FILE" ] && data_dir="$(cat "$DATADIR_FILE")"
    cmd_stop
    if [ -n "$data_dir" ] && [ -d "$data_dir" ]; then
        cmd_start "$data_dir"
    else
        log "no previous data dir remembered; starting fresh"
        cmd_start
    fi
}

# ------------------------------------------------------------- status ----
cmd_status() {
    local pid port
    port="$(current_port)"
    if pid="$(running_pid)"; then
        if port_open "$port"; then
            echo "running: pid $pid, CQL 127.0.0.1:$port, data $(cat "$DATADIR_FILE" 2>/dev/null)"
            return 0
        fi
        echo "starting or stuck (not answering CQL): pid $pid, CQL 127.0.0.1:$port"
        return 1
    fi
    echo "not running"
    return 3
}

# -------------------------------------------------------------- clean ----
cmd_clean() {
    local keep="" d
    lock
    [ -f "$DATADIR_FILE" ] && keep="$(cat "$DATADIR_FILE")"
    for d in "$STATE"/data-*; do
        [ -d "$d" ] || continue
        [ "$d" = "$keep" ] && continue
        rm -rf "$d"
    done
}

main() {
    case "${1:-}" in
        fetch)   cmd_fetch ;;
        start)   cmd_start "${2:-}" ;;
        stop)    cmd_stop ;;
        restart) cmd_restart ;;
        status)  cmd_status ;;
        clean)   cmd_clean ;;
        *) echo "usage: $0 {fetch|start [DATA_DIR]|stop|restart|status|clean}" >&2; return 2 ;;
    esac
}

# One line, so bash has read it whole before running it: editing this file
# while a start is waiting cannot make the running shell read garbage.
main "$@"; exit $?
