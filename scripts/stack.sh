#!/usr/bin/env bash
# The local stack without Docker: Apache Kafka 4 (KRaft, one node), Redis and
# moto (SNS/SQS) run as plain processes of this user, on the same ports as
# docker-compose.localstack.yml, so the code cannot tell the two stacks apart.
#
#   scripts/stack.sh up                 install what is missing, start what is not running, create topics
#   scripts/stack.sh down               stop the processes this script started (never foreign ones)
#   scripts/stack.sh status             table of service, port, pid, owner, health (exit 1 if one is unhealthy)
#   scripts/stack.sh env                the client settings for this stack, as export lines
#   scripts/stack.sh start|stop|restart|kill kafka|redis|moto    one service (kill = SIGKILL, a crash)
#   scripts/stack.sh logs kafka|redis|moto                       last lines of that service's log
#   scripts/stack.sh reset              down, then delete the Kafka and Redis data
#
# Ports come from scripts/stack/ports.env unless set in the environment
# (KAFKA_PORT, KAFKA_CONTROLLER_PORT, REDIS_PORT, MOTO_PORT); KAFKA_PARTITIONS
# (default 3) sets the partition count of topics it creates; STACK_TIMEOUT
# (seconds) overrides every readiness timeout. Everything lives in .local/.
# See docs/local-stack.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL_DIR="${LOCAL_DIR:-$ROOT/.local}"
STACK_DIR="$ROOT/scripts/stack"
RUN_DIR="$LOCAL_DIR/run"
LOG_DIR="$LOCAL_DIR/logs"
DATA_ROOT="$LOCAL_DIR/data"
KAFKA_HOME="$LOCAL_DIR/kafka"
VENV="$LOCAL_DIR/venv"
SERVICES=(redis moto kafka)

IS_TTY=0; [ -t 2 ] && IS_TTY=1
if [ "$IS_TTY" = 1 ]; then C_INFO=$'\033[36m' C_WARN=$'\033[33m' C_ERR=$'\033[31m' C_OFF=$'\033[0m'
else C_INFO="" C_WARN="" C_ERR="" C_OFF=""; fi
say()  { printf '%s[stack]%s %s\n' "$C_INFO" "$C_OFF" "$*" >&2; }
warn() { printf '%s[stack] %s%s\n' "$C_WARN" "$*" "$C_OFF" >&2; }
die()  { end_progress; printf '%s[stack] %s%s\n' "$C_ERR" "$*" "$C_OFF" >&2; exit 1; }

# ---------------------------------------------------------------- settings

load_settings() {
  local key value
  while IFS='=' read -r key value; do
    [[ "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]] || continue
    # An explicit environment variable wins over the file.
    [ -n "${!key:-}" ] || export "$key=$value"
  done < "$STACK_DIR/ports.env"
  export KAFKA_PARTITIONS="${KAFKA_PARTITIONS:-3}"
  local name
  for name in KAFKA_PORT KAFKA_CONTROLLER_PORT REDIS_PORT MOTO_PORT; do
    [[ "${!name}" =~ ^[0-9]+$ ]] && [ "${!name}" -ge 1 ] && [ "${!name}" -le 65535 ] \
      || die "$name must be a port number (1-65535), got '${!name}'"
  done
  [[ "$KAFKA_PARTITIONS" =~ ^[0-9]+$ ]] && [ "$KAFKA_PARTITIONS" -ge 1 ] \
    || die "KAFKA_PARTITIONS must be a positive integer, got '$KAFKA_PARTITIONS'"
  if [ -n "${STACK_TIMEOUT:-}" ] && ! [[ "$STACK_TIMEOUT" =~ ^[0-9]+$ ]]; then
    die "STACK_TIMEOUT must be a whole number of seconds, got '$STACK_TIMEOUT'"
  fi
  mkdir -p "$RUN_DIR" "$LOG_DIR" "$DATA_ROOT"
}

svc_port() {
  case "$1" in
    kafka) echo "$KAFKA_PORT" ;;
    redis) echo "$REDIS_PORT" ;;
    moto)  echo "$MOTO_PORT" ;;
  esac
}

# A cold JVM on a busy 2-core machine can take a minute to bring the broker up.
svc_timeout() {
  if [ -n "${STACK_TIMEOUT:-}" ]; then echo "$STACK_TIMEOUT"; return; fi
  case "$1" in kafka) echo 120 ;; redis) echo 20 ;; moto) echo 60 ;; esac
}

# Seconds between SIGTERM and SIGKILL: Kafka's controlled shutdown needs a while.
svc_grace() { case "$1" in kafka) echo 30 ;; *) echo 10 ;; esac; }

check_service_name() {
  case "${1:-}" in
    kafka|redis|moto) ;;
    *) die "unknown service '${1:-}': expected kafka, redis or moto" ;;
  esac
}

# ---------------------------------------------------------------- health probes
# Plain bash over /dev/tcp, so a probe costs milliseconds and needs no client
# installed, and a foreign service (the compose stack) is judged the same way.

port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# Kafka ApiVersions v0 request, correlation id 7; a broker answers with the same
# correlation id and error code 0 (Kafka and Redpanda alike).
kafka_healthy() {
  local reply
  reply="$(timeout 3 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/'"$1"' || exit 1
    printf "\x00\x00\x00\x0e\x00\x12\x00\x00\x00\x00\x00\x07\x00\x04stak" >&3
    head -c 10 <&3 | od -An -tx1' 2>/dev/null | tr -d ' \n')" || return 1
  [[ "$reply" =~ ^[0-9a-f]{8}000000070000$ ]]
}

redis_healthy() {
  local reply
  reply="$(timeout 2 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/'"$1"' || exit 1
    printf "PING\r\n" >&3
    head -c 5 <&3' 2>/dev/null)" || return 1
  [ "$reply" = "+PONG" ]
}

# moto answers /moto-api/, LocalStack /_localstack/health: either is an AWS endpoint.
aws_healthy() {
  curl -fsS -m 3 -o /dev/null "http://127.0.0.1:$1/moto-api/" 2>/dev/null ||
    curl -fsS -m 3 -o /dev/null "http://127.0.0.1:$1/_localstack/health" 2>/dev/null
}

svc_healthy() {
  case "$1" in
    kafka) kafka_healthy "$KAFKA_PORT" ;;
    redis) redis_healthy "$REDIS_PORT" ;;
    moto)  aws_healthy "$MOTO_PORT" ;;
  esac
}

# Who listens on a port, for messages: "name pid" or "unknown".
listener_of() {
  local line
  line="$(ss -ltnpH "sport = :$1" 2>/dev/null | head -1)" || true
  if [[ "$line" =~ users:\(\(\"([^\"]+)\",pid=([0-9]+) ]]; then
    echo "${BASH_REMATCH[1]} (pid ${BASH_REMATCH[2]})"
  else
    echo "an unknown process"
  fi
}

listener_pid() {
  local line
  line="$(ss -ltnpH "sport = :$1" 2>/dev/null | head -1)" || true
  if [[ "$line" =~ pid=([0-9]+) ]]; then echo "${BASH_REMATCH[1]}"; else echo "-"; fi
}

# ---------------------------------------------------------------- pid files

pid_file() { echo "$RUN_DIR/$1.pid"; }

# The command line a process of ours must have, so a recycled pid is never killed.
cmdline_matches() {
  local svc="$1" pid="$2" cmd
  cmd="$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" || return 1
  case "$svc" in
    kafka) [[ "$cmd" == *kafka.Kafka* && "$cmd" == *"$KAFKA_HOME/config/server.properties"* ]] ;;
    redis) [[ "$cmd" == *redis-server* ]] ;;
    moto)  [[ "$cmd" == *moto_server* && "$cmd" == *"$VENV/"* ]] ;;
  esac
}

port_file() { echo "$RUN_DIR/$1.port"; }
our_port() { cat "$(port_file "$1")" 2>/dev/null || echo "?"; }
port_var() { case "$1" in kafka) echo KAFKA_PORT ;; redis) echo REDIS_PORT ;; moto) echo MOTO_PORT ;; esac; }

# our_pid SVC prints the pid of the live process this script started for SVC and
# returns 0 if it was started on the configured port, 2 if on another one (say
# REDIS_PORT differs between two calls), 1 if there is none (drops stale files).
our_pid() {
  local svc="$1" file pid
  file="$(pid_file "$svc")"
  [ -f "$file" ] || return 1
  pid="$(tr -dc '0-9' < "$file")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && cmdline_matches "$svc" "$pid"; then
    echo "$pid"
    # Without a port file (older pid file), trust the socket table instead.
    if [ ! -f "$(port_file "$svc")" ] && [ "$(listener_pid "$(svc_port "$svc")")" = "$pid" ]; then
      svc_port "$svc" > "$(port_file "$svc")"
    fi
    [ "$(our_port "$svc")" = "$(svc_port "$svc")" ] && return 0
    return 2
  fi
  rm -f "$file" "$(port_file "$svc")"
  return 1
}

other_port_msg() {
  local svc="$1" pid="$2"
  echo "$svc: this script runs $svc on port $(our_port "$svc") (pid $pid), not on $(port_var "$svc")=$(svc_port "$svc"); stop that one first: $(port_var "$svc")=$(our_port "$svc") scripts/stack.sh stop $svc"
}

# ---------------------------------------------------------------- progress

PROGRESS_OPEN=0
LAST_STATUS_LINE=0
# progress TEXT: on a TTY one line redrawn in place; otherwise a line every 10 s.
progress() {
  if [ "$IS_TTY" = 1 ]; then
    printf '\r\033[K%s[stack]%s %s' "$C_INFO" "$C_OFF" "$1" >&2
    PROGRESS_OPEN=1
  elif [ $((SECONDS - LAST_STATUS_LINE)) -ge 10 ]; then
    LAST_STATUS_LINE=$SECONDS
    printf '[stack] %s\n' "$1" >&2
  fi
}
end_progress() {
  if [ "$PROGRESS_OPEN" = 1 ]; then printf '\r\033[K' >&2; PROGRESS_OPEN=0; fi
}

# bar DONE TOTAL ELAPSED UNIT: "[#####-----] 12/40 jars 3.1/s ETA 9s"
bar() {
  awk -v d="$1" -v t="$2" -v e="$3" -v u="$4" 'BEGIN {
    w = 20; if (t < d) t = d; f = (t > 0) ? d / t : 0; n = int(f * w)
    s = ""; for (i = 0; i < w; i++) s = s (i < n ? "#" : "-")
    r = (e > 0) ? d / e : 0
    eta = (r > 0 && f >= 0.05) ? sprintf("ETA %ds", (t - d) / r) : "ETA ?"
    printf "[%s] %d/~%d %s %.1f/s %s", s, d, t, u, r, eta }'
}

# ---------------------------------------------------------------- prerequisites

java_major() {
  local v
  v="$("$1" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
  case "$v" in 1.*) v="${v#1.}" ;; esac
  v="${v%%[!0-9]*}"
  echo "${v:-0}"
}

# Sets JAVA to a java >= 17: JAVA_HOME, then PATH, then any JVM under /usr/lib/jvm.
find_java() {
  local cand
  for cand in "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java 2>/dev/null || true)" /usr/lib/jvm/*/bin/java; do
    [ -n "$cand" ] && [ -x "$cand" ] || continue
    if [ "$(java_major "$cand")" -ge 17 ]; then JAVA="$cand"; return 0; fi
  done
  return 1
}

can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

APT_UPDATED=0
apt_candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}' | grep -qv '(none)'; }

apt_install() {
  local log="$LOG_DIR/install-apt.log" start=$SECONDS pid
  export DEBIAN_FRONTEND=noninteractive
  say "installing with apt-get: $* (log: ${log#"$ROOT/"})"
  {
    if [ "$APT_UPDATED" = 0 ]; then apt-get update -q; fi
    apt-get install -y -q --no-install-recommends "$@"
  } >"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    progress "apt-get install $*: $(grep -c '^Unpacking' "$log" 2>/dev/null || true) packages unpacked, $((SECONDS - start))s"
    sleep 1
  done
  end_progress
  if ! wait "$pid"; then
    tail -n 20 "$log" >&2
    die "apt-get install $* failed (full log: $log)"
  fi
  APT_UPDATED=1
}

# Pick the first JRE package this distribution offers (Debian 13 has no 17).
jre_package() {
  local p
  for p in openjdk-17-jre-headless openjdk-21-jre-headless default-jre-headless; do
    if apt_candidate "$p"; then echo "$p"; return 0; fi
  done
  echo openjdk-17-jre-headless
}

# Makes sure the programs needed to install and run the given services exist,
# installing them with apt when root on Debian/Ubuntu, else naming them.
ensure_prereqs() {
  local need_java=0 need_mvn=0 need_redis=0 need_python=0 need_curl=0 svc
  local -a missing=()
  for svc in "$@"; do
    case "$svc" in
      kafka)
        find_java || { need_java=1; missing+=("Java 17 or newer (e.g. openjdk-17-jre-headless)"); }
        if ! kafka_installed && ! command -v mvn >/dev/null 2>&1; then need_mvn=1; missing+=("Maven (mvn), to fetch the Kafka jars"); fi ;;
      redis)
        command -v redis-server >/dev/null 2>&1 || { need_redis=1; missing+=("redis-server"); } ;;
      moto)
        if ! moto_installed; then
          if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
            need_python=1; missing+=("python3 with venv (python3-venv)")
          fi
        fi ;;
    esac
  done
  command -v curl >/dev/null 2>&1 || { need_curl=1; missing+=("curl"); }
  [ "${#missing[@]}" -gt 0 ] || return 0

  if ! can_apt; then
    local m msg="missing prerequisites (this script installs them itself only as root with apt-get):"
    for m in "${missing[@]}"; do msg+=$'\n'"  - $m"; done
    msg+=$'\n'"On Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless maven redis-server python3-venv curl"
    die "$msg"
  fi
  local -a pkgs=()
  export DEBIAN_FRONTEND=noninteractive
  if [ "$need_java" = 1 ] || [ "$need_mvn" = 1 ]; then
    # apt-cache needs fresh lists to know which JRE this release offers.
    say "apt-get update"; apt-get update -q >"$LOG_DIR/install-apt.log" 2>&1 || die "apt-get update failed (log: $LOG_DIR/install-apt.log)"
    APT_UPDATED=1
  fi
  [ "$need_java" = 1 ] && pkgs+=("$(jre_package)")
  [ "$need_mvn" = 1 ] && pkgs+=(maven)
  [ "$need_redis" = 1 ] && pkgs+=(redis-server)
  [ "$need_python" = 1 ] && pkgs+=(python3 python3-venv)
  [ "$need_curl" = 1 ] && pkgs+=(curl)
  apt_install "${pkgs[@]}"
  if [ "$need_java" = 1 ]; then find_java || die "installed ${pkgs[0]} but found no java >= 17"; fi
  if [ "$need_redis" = 1 ]; then stop_distro_redis; fi
}

# Debian's package may start its own redis-server on 6379 (where an init system
# runs); that one belongs to the system, not to us, and would take our port.
stop_distro_redis() {
  sleep 1
  local pid
  pid="$(listener_pid "$REDIS_PORT")"
  if [ "$pid" != "-" ] && [[ "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" == *redis-server* ]]; then
    say "stopping the redis-server the package started (pid $pid); this script runs its own"
    if command -v service >/dev/null 2>&1; then service redis-server stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    else kill "$pid" 2>/dev/null || true; fi
    local i; for i in $(seq 1 50); do port_open "$REDIS_PORT" || break; sleep 0.1; done
  fi
}

# ---------------------------------------------------------------- installs

stamp_of() { sha1sum "$@" | sha1sum | cut -c1-16; }
kafka_stamp() { stamp_of "$STACK_DIR/pom.xml"; }
kafka_installed() { [ -f "$KAFKA_HOME/libs/.stamp" ] && [ "$(cat "$KAFKA_HOME/libs/.stamp")" = "$(kafka_stamp)" ]; }
moto_stamp() { echo "$(stamp_of "$STACK_DIR/moto-requirements.txt")-$("$VENV/bin/python" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || echo none)"; }
moto_installed() { [ -x "$VENV/bin/moto_server" ] && [ -f "$VENV/.stamp" ] && [ "$(cat "$VENV/.stamp")" = "$(moto_stamp)" ]; }

# Maven into a temporary folder then a rename, so an interrupted download never
# leaves a half-filled libs/ that looks installed.
install_kafka_jars() {
  local tmp="$KAFKA_HOME/libs.tmp"
  rm -rf "$tmp"
  mkdir -p "$KAFKA_HOME"
  (
    if [ -n "${JAVA:-}" ]; then export JAVA_HOME; JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$JAVA")")")"; fi
    mvn -B -Dstyle.color=never -f "$STACK_DIR/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp"
  ) || return 1
  ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || { echo "no kafka_2.13 jar after mvn" >&2; return 1; }
  kafka_stamp > "$tmp/.stamp"
  rm -rf "$KAFKA_HOME/libs"
  mv "$tmp" "$KAFKA_HOME/libs"
}

install_moto_venv() {
  rm -rf "$VENV"
  python3 -m venv "$VENV" || return 1
  PIP_PROGRESS_BAR=off "$VENV/bin/pip" install --disable-pip-version-check -r "$STACK_DIR/moto-requirements.txt" || return 1
  moto_stamp > "$VENV/.stamp"
}

# Fetches what the given services lack, in parallel (both are network-bound),
# with one progress line for the lot.
install_missing() {
  local -a names=() pids=() logs=() units=() patterns=() totals=()
  local svc
  for svc in "$@"; do
    case "$svc" in
      kafka) kafka_installed && continue
        names+=("kafka jars"); logs+=("$LOG_DIR/install-kafka.log"); units+=(files)
        patterns+=('Downloaded from'); totals+=(480)
        install_kafka_jars >"${logs[-1]}" 2>&1 & pids+=($!) ;;
      moto) moto_installed && continue
        names+=("moto venv"); logs+=("$LOG_DIR/install-moto.log"); units+=(pkgs)
        patterns+=('^Collecting'); totals+=(60)
        install_moto_venv >"${logs[-1]}" 2>&1 & pids+=($!) ;;
    esac
  done
  [ "${#pids[@]}" -gt 0 ] || return 0
  say "installing: ${names[*]} (logs in ${LOG_DIR#"$ROOT/"}/install-*.log)"
  local start=$SECONDS running i line n
  while :; do
    running=0; line=""
    for i in "${!pids[@]}"; do
      kill -0 "${pids[$i]}" 2>/dev/null && running=1
      n="$(grep -c "${patterns[$i]}" "${logs[$i]}" 2>/dev/null || true)"
      line+="${names[$i]} $(bar "${n:-0}" "${totals[$i]}" $((SECONDS - start)) "${units[$i]}")  "
    done
    [ "$running" = 1 ] || break
    progress "$line$((SECONDS - start))s"
    sleep 1
  done
  end_progress
  local failed=0
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
      failed=1
      warn "installing ${names[$i]} failed; last lines of ${logs[$i]}:"
      tail -n 25 "${logs[$i]}" >&2
    fi
  done
  [ "$failed" = 0 ] || die "install failed (see above)"
  say "installed ${names[*]} in $((SECONDS - start))s"
}

# ---------------------------------------------------------------- starting

rotate_log() {
  local log="$1"
  if [ -f "$log" ] && [ "$(stat -c %s "$log")" -gt 20000000 ]; then mv -f "$log" "$log.1"; fi
}

# Runs a service detached in its own session, so it outlives this script and the
# terminal. The child writes its own pid before exec'ing, so the pid file holds
# the service's pid whether or not setsid had to fork. It closes every inherited
# descriptor above 2: our lock (fd 9) must not stay held, and a caller reading a
# pipe to its end must not wait for a daemon.
spawn() {
  local svc="$1"; shift
  local log="$LOG_DIR/$svc.log" pidf
  pidf="$(pid_file "$svc")"
  rotate_log "$log"
  printf '===== %s stack.sh starting %s: %s\n' "$(date '+%F %T')" "$svc" "$*" >>"$log"
  rm -f "$pidf"
  svc_port "$svc" > "$(port_file "$svc")"
  setsid bash -c '
    for fd in /proc/self/fd/*; do fd="${fd##*/}"; [ "$fd" -le 2 ] || eval "exec $fd>&-" 2>/dev/null || true; done
    echo $$ > "$0"; exec "$@"' "$pidf" "$@" </dev/null >>"$log" 2>&1 9>&- &
  local i
  for i in $(seq 1 50); do [ -s "$pidf" ] && return 0; sleep 0.1; done
  die "$svc did not start (no pid file); see $log"
}

kafka_tool() {
  "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_HOME/config/tools-log4j2.properties" \
    -cp "$KAFKA_HOME/libs/*" "$@"
}

# Base64url of 16 random bytes is a Kafka Uuid; Kafka never hands out one that
# starts with '-' (it would read as a flag), so neither do we.
kafka_cluster_id() {
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "$id" == -* ]] || { echo "$id"; return; }
  done
}

start_kafka() {
  find_java || die "Java 17+ not found"
  if port_open "$KAFKA_CONTROLLER_PORT"; then
    die "Kafka's controller port $KAFKA_CONTROLLER_PORT is in use by $(listener_of "$KAFKA_CONTROLLER_PORT"); free it or set KAFKA_CONTROLLER_PORT"
  fi
  local conf="$KAFKA_HOME/config" data="$DATA_ROOT/kafka"
  mkdir -p "$conf" "$data"
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|@KAFKA_DATA_DIR@|$data|g" -e "s|@KAFKA_PARTITIONS@|$KAFKA_PARTITIONS|g" \
      "$STACK_DIR/server.properties.template" > "$conf/server.properties"
  cp "$STACK_DIR/log4j2.properties" "$STACK_DIR/tools-log4j2.properties" "$conf/"
  if [ ! -f "$data/meta.properties" ]; then
    say "formatting Kafka storage in ${data#"$ROOT/"}"
    kafka_tool kafka.tools.StorageTool format --standalone -t "$(kafka_cluster_id)" \
        -c "$conf/server.properties" >>"$LOG_DIR/kafka.log" 2>&1 \
      || { tail -n 20 "$LOG_DIR/kafka.log" >&2; die "formatting Kafka storage failed (log: $LOG_DIR/kafka.log)"; }
  fi
  spawn kafka "$JAVA" -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$conf/log4j2.properties" \
    -cp "$KAFKA_HOME/libs/*" kafka.Kafka "$conf/server.properties"
}

start_redis() {
  mkdir -p "$DATA_ROOT/redis"
  # --daemonize no: we keep the pid; '-::1' binds IPv6 loopback only where it exists.
  spawn redis redis-server --port "$REDIS_PORT" --bind "127.0.0.1 -::1" --daemonize no \
    --dir "$DATA_ROOT/redis" --appendonly no --protected-mode yes --logfile ""
}

start_moto() {
  PYTHONUNBUFFERED=1 spawn moto "$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT"
}

start_svc() {
  case "$1" in kafka) start_kafka ;; redis) start_redis ;; moto) start_moto ;; esac
}

# Waits until every given service answers; a process that dies or stays silent
# past its timeout fails the command with the tail of its log.
wait_ready() {
  local -a pending=("$@")
  local start=$SECONDS svc pid elapsed
  local -a still=()
  while [ "${#pending[@]}" -gt 0 ]; do
    still=()
    elapsed=$((SECONDS - start))
    for svc in "${pending[@]}"; do
      if svc_healthy "$svc"; then
        end_progress
        say "$svc ready on port $(svc_port "$svc") after ${elapsed}s"
        continue
      fi
      pid="$(tr -dc '0-9' < "$(pid_file "$svc")" 2>/dev/null || true)"
      if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
        end_progress
        warn "$svc exited during startup; last lines of $LOG_DIR/$svc.log:"
        tail -n 40 "$LOG_DIR/$svc.log" >&2 || true
        rm -f "$(pid_file "$svc")"
        die "$svc failed to start (full log: $LOG_DIR/$svc.log)"
      fi
      if [ "$elapsed" -ge "$(svc_timeout "$svc")" ]; then
        end_progress
        warn "$svc (pid $pid) not ready after ${elapsed}s; last lines of $LOG_DIR/$svc.log:"
        tail -n 40 "$LOG_DIR/$svc.log" >&2 || true
        die "$svc did not become ready within $(svc_timeout "$svc")s (it is left running: 'scripts/stack.sh logs $svc', 'scripts/stack.sh stop $svc'; STACK_TIMEOUT raises the limit)"
      fi
      still+=("$svc")
    done
    [ "${#still[@]}" -gt 0 ] || break
    pending=("${still[@]}")
    progress "waiting for ${pending[*]}: ${elapsed}s (gives up at $(svc_timeout "${pending[0]}")s)"
    sleep 0.5
  done
  end_progress
}

# Creates the topics of scripts/stack/topics.txt that the broker lacks. One JVM
# lists them; the missing ones are created in parallel JVMs.
ensure_topics() {
  if ! find_java || ! ls "$KAFKA_HOME"/libs/kafka-tools-*.jar >/dev/null 2>&1; then
    warn "Kafka tools not installed here; topics on the broker at localhost:$KAFKA_PORT were not checked"
    return 0
  fi
  mkdir -p "$KAFKA_HOME/config"
  cp "$STACK_DIR/tools-log4j2.properties" "$KAFKA_HOME/config/"
  local bootstrap="localhost:$KAFKA_PORT" described
  described="$(kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
      --describe --exclude-internal 2>"$LOG_DIR/topics.log")" \
    || { cat "$LOG_DIR/topics.log" >&2; die "could not list topics on $bootstrap"; }
  local name configs count c
  local -a pids=() created=()
  while read -r name configs; do
    case "$name" in ''|'#'*) continue ;; esac
    count="$(awk -v t="$name" '$1 == "Topic:" && $2 == t { for (i = 1; i <= NF; i++) if ($i == "PartitionCount:") print $(i + 1) }' <<<"$described")"
    if [ -n "$count" ]; then
      [ "$count" = "$KAFKA_PARTITIONS" ] || warn "topic $name has $count partitions, not KAFKA_PARTITIONS=$KAFKA_PARTITIONS ('scripts/stack.sh reset' recreates it)"
      continue
    fi
    local -a cfg=()
    for c in $configs; do cfg+=(--config "$c"); done
    kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --create --if-not-exists \
      --topic "$name" --partitions "$KAFKA_PARTITIONS" --replication-factor 1 "${cfg[@]}" \
      >>"$LOG_DIR/topics.log" 2>&1 &
    pids+=($!); created+=("$name")
  done < "$STACK_DIR/topics.txt"
  [ "${#pids[@]}" -gt 0 ] || return 0
  local i failed=0
  for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed=1; done
  if [ "$failed" = 1 ]; then cat "$LOG_DIR/topics.log" >&2; die "creating topics failed"; fi
  say "created topics (${KAFKA_PARTITIONS} partitions): ${created[*]}"
}

# ---------------------------------------------------------------- stopping

# stop_svc SVC [SIGNAL [any-port]]: TERM, wait the grace period, then KILL; only
# a process this script started, and (unless any-port) only on the configured port.
stop_svc() {
  local svc="$1" sig="${2:-TERM}" any_port="${3:-}" pid port rc=0
  port="$(svc_port "$svc")"
  pid="$(our_pid "$svc")" || rc=$?
  if [ "$rc" = 2 ]; then
    if [ -n "$any_port" ]; then port="$(our_port "$svc")"; else die "$(other_port_msg "$svc" "$pid")"; fi
  elif [ "$rc" = 1 ]; then
    if svc_healthy "$svc"; then
      say "$svc: port $port is served by $(listener_of "$port"), which this script did not start; left alone"
    else
      say "$svc: not running"
    fi
    return 0
  fi
  kill "-$sig" "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + $(svc_grace "$svc")))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      warn "$svc (pid $pid) still running after $(svc_grace "$svc")s; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    progress "stopping $svc (pid $pid): $((SECONDS + $(svc_grace "$svc") - deadline))s"
    sleep 0.2
  done
  end_progress
  rm -f "$(pid_file "$svc")" "$(port_file "$svc")"
  say "$svc stopped (pid $pid, port $port, SIG$sig)"
}

# ---------------------------------------------------------------- commands

take_lock() {
  exec 9>"$RUN_DIR/stack.lock"
  if ! flock -n 9; then
    say "another scripts/stack.sh is running; waiting for it"
    flock -w 900 9 || die "gave up waiting for the lock $RUN_DIR/stack.lock"
  fi
}

# Brings the given services up: reuses healthy ones (ours or foreign), starts the
# rest, waits for them, then makes sure the topics exist.
bring_up() {
  local svc pid port rc
  local -a to_start=() to_wait=() conflicts=()
  for svc in "$@"; do
    port="$(svc_port "$svc")"
    rc=0; pid="$(our_pid "$svc")" || rc=$?
    if [ "$rc" = 0 ]; then
      if svc_healthy "$svc"; then say "$svc: running (pid $pid, port $port)"
      else to_wait+=("$svc"); fi
    elif [ "$rc" = 2 ] && ! svc_healthy "$svc"; then
      # Starting another would orphan the first: its pid file would be overwritten.
      conflicts+=("$(other_port_msg "$svc" "$pid")")
    elif svc_healthy "$svc"; then
      say "$svc: port $port is already served by $(listener_of "$port"); reusing it"
    elif port_open "$port"; then
      conflicts+=("$svc: port $port is in use by $(listener_of "$port"), which does not answer like $svc; stop it or set $(port_var "$svc")")
    else
      to_start+=("$svc")
    fi
  done
  if [ "${#conflicts[@]}" -gt 0 ]; then
    local c msg="cannot start:"
    for c in "${conflicts[@]}"; do msg+=$'\n'"  $c"; done
    die "$msg"
  fi
  if [ "${#to_start[@]}" -gt 0 ]; then
    ensure_prereqs "${to_start[@]}"
    install_missing "${to_start[@]}"
    for svc in "${to_start[@]}"; do start_svc "$svc"; done
    say "started ${to_start[*]}; waiting for readiness"
  fi
  local -a pending=("${to_start[@]}" "${to_wait[@]}")
  [ "${#pending[@]}" -eq 0 ] || wait_ready "${pending[@]}"
  for svc in "$@"; do [ "$svc" != kafka ] || ensure_topics; done
}

status_table() {
  local svc port pid owner health all_ok=0 rc
  local -a notes=()
  printf '%-8s %-6s %-8s %-8s %s\n' SERVICE PORT PID OWNER HEALTHY
  for svc in "${SERVICES[@]}"; do
    port="$(svc_port "$svc")"
    rc=0; pid="$(our_pid "$svc")" || rc=$?
    [ "$rc" != 2 ] || notes+=("$(other_port_msg "$svc" "$pid")")
    if [ "$rc" = 0 ]; then owner=stack
    elif port_open "$port"; then owner=foreign; pid="$(listener_pid "$port")"
    else owner="-"; pid="-"; fi
    if svc_healthy "$svc"; then health=yes; else health=no; all_ok=1; fi
    printf '%-8s %-6s %-8s %-8s %s\n' "$svc" "$port" "$pid" "$owner" "$health"
  done
  local n
  for n in "${notes[@]}"; do warn "$n"; done
  return "$all_ok"
}

print_env() {
  cat <<EOF
export KAFKA_BROKERS=localhost:$KAFKA_PORT
export REDIS_URL=redis://localhost:$REDIS_PORT
export AWS_ENDPOINT_URL=http://localhost:$MOTO_PORT
export DATA_DIR=$DATA_ROOT
EOF
}

cmd_up() {
  local t0=$SECONDS
  take_lock
  bring_up "${SERVICES[@]}"
  say "stack up in $((SECONDS - t0))s"
  status_table || true
  say "client settings: 'scripts/stack.sh env'; logs: ${LOG_DIR#"$ROOT/"}/<service>.log"
}

cmd_down() {
  take_lock
  local svc
  for svc in kafka moto redis; do stop_svc "$svc" TERM any-port; done
}

cmd_reset() {
  cmd_down
  rm -rf "$DATA_ROOT/kafka" "$DATA_ROOT/redis"
  say "deleted ${DATA_ROOT#"$ROOT/"}/kafka and ${DATA_ROOT#"$ROOT/"}/redis; 'scripts/stack.sh up' starts afresh"
}

main() {
  local cmd="${1:-}"
  shift || true
  load_settings
  case "$cmd" in
    up)     cmd_up ;;
    down)   cmd_down ;;
    status) status_table ;;
    env)    print_env ;;
    reset)  cmd_reset ;;
    start)   check_service_name "${1:-}"; take_lock; bring_up "$1" ;;
    stop)    check_service_name "${1:-}"; take_lock; stop_svc "$1" ;;
    kill)    check_service_name "${1:-}"; take_lock; stop_svc "$1" KILL ;;
    restart) check_service_name "${1:-}"; take_lock; stop_svc "$1"; bring_up "$1" ;;
    logs)    check_service_name "${1:-}"; tail -n "${LINES_TO_SHOW:-60}" "$LOG_DIR/$1.log" ;;
    *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
  esac
}

main "$@"
