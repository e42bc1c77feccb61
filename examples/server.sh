# Sourced by the examples that need a server of their own: start_server
# DATA starts `$rh server` on a free port with its data in DATA (output in
# DATA/server.out and .log), adds its PID to the `pids` array the caller
# kills on exit, and sets `url` (and exports RH_SERVER) once it listens.
start_server() {
  local data=$1
  "$rh" --data-dir "$data" server --port 0 > "$data/server.out" 2> "$data/server.log" &
  pids+=($!)
  url=
  for _ in $(seq 100); do
    url=$(grep -o 'http://[0-9.]*:[0-9]*' "$data/server.out" 2>/dev/null | head -1 || true)
    [[ -n "$url" ]] && break
    sleep 0.1
  done
  [[ -n "$url" ]] || { echo "rh server did not start: $(cat "$data/server.log")" >&2; exit 1; }
  export RH_SERVER=$url
}
