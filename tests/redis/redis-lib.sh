# redis-lib.sh - a redis-server of the test's own for shell tests (sourced):
# start_redis DIR starts one on 127.0.0.1 at a free port with its files in
# DIR, no persistence, and waits (bounded: 30 s) until it answers; sets
# $redis_port and $redis_pid. The caller stops it (kill $redis_pid).
start_redis() {
    redis_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$1" --save "" --appendonly no \
        --logfile "$1/redis.log" --daemonize no &
    redis_pid=$!
    i=0
    until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -gt 1500 ] && { echo "FAIL redis-server did not start (30 s)"; exit 1; }
        sleep 0.02
    done
}
