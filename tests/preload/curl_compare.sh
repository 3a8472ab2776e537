#!/usr/bin/env bash
# The system curl, natively and under greenrun (compare.sh), fetching http://localhost:PORT/ from
# a local server started here for the two requests: both runs must print the same page.
# usage: curl_compare.sh "GREENRUN [OPTIONS...]" CURL HTTP_SERVER
set -u
shim=$1 curl=$2 server=$3
dir=$(mktemp -d)
"$server" 2 >"$dir/port" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null; rm -rf "$dir"' EXIT
port=
for _ in $(seq 100); do
    port=$(sed -n 's/^port //p' "$dir/port")
    [[ -n $port ]] && break
    sleep 0.05
done
[[ -n $port ]] || { echo "FAIL: the server did not start"; exit 1; }

"$(dirname "$0")/compare.sh" "$shim" - - "$curl" -sS --max-time 20 "http://localhost:$port/"
fail=$?
wait $server_pid
server_rc=$?
[[ $server_rc -eq 0 ]] || { echo "FAIL: the server exited $server_rc"; fail=1; }
exit $fail
