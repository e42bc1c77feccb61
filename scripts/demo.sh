#!/usr/bin/env bash
# The README's demo: records the quickstart example as a task on the embedded
# store (~/.roundhouse unless RH_DATA_DIR is set), then serves it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rh=$(readlink -f "${1:-$here/build/rh}")
"$rh" run --project demo --name quickstart --tag demo -- python3 "$here/examples/quickstart.py" --epochs 30
"$rh" tasks list --project demo --limit 5
echo
echo "Try:  $rh tasks show <ID>    $rh tasks scalars <ID>    curl \$URL/api/v1/tasks"
exec "$rh" server
