#!/usr/bin/env bash
# The system curl, natively and under greenrun, fetching http://localhost:PORT/ from a local
# server started here: both must print the same page.
# usage: curl_compare.sh GREENRUN "GREENRUN OPTIONS" CURL HTTP_SERVER
set -u
greenrun=$1 opts=$2 curl=$3 server=$4
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
url=http://localhost:$port/

"$curl" -sS --max-time 20 "$url" >"$dir/native.out" 2>"$dir/native.err"
native_rc=$?
# shellcheck disable=SC2086
"$greenrun" $opts -- "$curl" -sS --max-time 20 "$url" >"$dir/shim.out" 2>"$dir/shim.err"
shim_rc=$?
wait $server_pid
server_rc=$?

echo "--- native curl (rc=$native_rc)"; head -3 "$dir/native.out"; cat "$dir/native.err"
echo "--- greenrun $opts curl (rc=$shim_rc)"; head -3 "$dir/shim.out"; cat "$dir/shim.err"
fail=0
[[ $native_rc -eq 0 && $shim_rc -eq 0 ]] || { echo "FAIL: curl failed"; fail=1; }
[[ $server_rc -eq 0 ]] || { echo "FAIL: the server exited $server_rc"; fail=1; }
[[ -s $dir/native.out ]] || { echo "FAIL: empty page"; fail=1; }
cmp -s "$dir/native.out" "$dir/shim.out" || { echo "FAIL: the pages differ"; fail=1; }
exit $fail
