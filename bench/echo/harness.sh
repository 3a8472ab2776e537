# Shared by bench/echo/run.sh, bench/echo/wakeups.sh and bench/preload/run.sh (sourced, not
# run): option parsing, the Release build, starting a server pinned to one core and waiting
# until it accepts, stopping it, and small helpers. The caller sets runs/window/warmup/conns/servers/port defaults first.

parse_options() {
    while (($#)); do
        case $1 in
            --quick) runs=1 window=2 warmup=0.5 ;;
            --runs) runs=$2; shift ;;
            --window) window=$2; shift ;;
            --conns) conns=$2; shift ;;
            --servers) servers=$2; shift ;;
            *) echo "unknown option $1" >&2; exit 2 ;;
        esac
        shift
    done
    build=${BUILD:-build-bench}
    server_cpu=${SERVER_CPU:-0}
    client_cpu=${CLIENT_CPU:-1}
    host=127.0.0.1
}

# build_targets target... : configures $build (Release, no tests/examples) once, then builds.
build_targets() {
    if [[ ! -f $build/build.ninja && ! -f $build/Makefile ]]; then
        cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGREEN_BUILD_TESTS=OFF \
            -DGREEN_BUILD_EXAMPLES=OFF >/dev/null
    fi
    cmake --build "$build" --target "$@" -j"$(nproc)" >/dev/null
    bin=$build/bench/echo
    ulimit -n "$(ulimit -Hn)"
    tmp=$(mktemp -d)
    spid=
    trap 'rm -rf "$tmp"; [[ -n ${spid:-} ]] && kill -9 "$spid" 2>/dev/null || true' EXIT
}

# launch_server name cpus command... : starts it on `cpus` (a taskset list), sets spid, waits
# until it accepts. taskset, env and greenrun all exec, so the pid (and /proc/<pid>/stat) is the
# server's own (its CPU time covers all its threads).
launch_server() {
    local name=$1 cpus=$2
    shift 2
    taskset -c "$cpus" "$@" >"$tmp/server.log" 2>&1 &
    spid=$!
    for _ in $(seq 100); do
        if (exec 3<>/dev/tcp/$host/$port) 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "server $name did not start:" >&2
    cat "$tmp/server.log" >&2
    return 1
}

stop_server() {
    kill -TERM "$spid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
    spid=
}

# key=value field of a load-generator report line
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
