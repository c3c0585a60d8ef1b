# server-lib.sh - tests/http/server.py for the HTTP test scripts (sourced;
# $work: the caller's temporary directory, $here: tests/http). start_server NAME [ARGS...]
# starts one on 127.0.0.1 and sets $port; every server stops when
# stop_servers closes their stdin, or after 120 s.
mkfifo "$work/server-stdin"
servers=
servers_fd=
start_server() {
    name=$1
    shift
    python3 "$here/server.py" "$@" --lifetime 120 <"$work/server-stdin" \
        >"$work/$name.port" 3>&- &
    servers="$servers $!"
    if [ -z "$servers_fd" ]; then
        exec 3>"$work/server-stdin"
        servers_fd=3
    fi
    i=0
    # Up to 30 s: python starts slowly on a loaded machine.
    while [ ! -s "$work/$name.port" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
    port=$(head -n 1 "$work/$name.port")
    [ -n "$port" ] || { echo "FAIL: the test server $name did not start"; exit 1; }
}
stop_servers() {
    exec 3>&-
    # shellcheck disable=SC2086
    wait $servers 2>/dev/null
}
