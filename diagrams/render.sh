#!/usr/bin/env bash
# Render every Graphviz source in diagrams/ (*.dot) to PNG and SVG beside it.
# Needs Graphviz's `dot` (Debian/Ubuntu: apt-get install -y graphviz).
# Usage: diagrams/render.sh [name.dot ...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v dot >/dev/null; then
  echo "render.sh: Graphviz 'dot' not found (apt-get install -y graphviz)" >&2
  exit 1
fi

sources=("$@")
if [ ${#sources[@]} -eq 0 ]; then
  sources=(*.dot)
fi

for src in "${sources[@]}"; do
  name="${src%.dot}"
  dot -Tsvg "$src" -o "$name.svg"
  dot -Tpng -Gdpi=110 "$src" -o "$name.png"
  echo "rendered $name.png $name.svg"
done
