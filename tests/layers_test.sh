#!/usr/bin/env bash
# The include graph runs one way: core <- kernels <- nn <- strategy <- run <- tools, api <-
# python, with data on core and under strategy. Each folder may include only the folders
# listed for it; a project include outside them fails the test, naming the file and line.
#
#   layers_test.sh SOURCE_DIR
set -euo pipefail
cd "$1"
declare -A allowed=(
  [core]="core"
  [kernels]="core kernels"
  [nn]="core kernels nn"
  [data]="core data"
  [strategy]="core kernels nn data strategy"
  [run]="core kernels nn data strategy run"
  [api]="core kernels nn data strategy run api ar1"
  [tools]="core kernels nn data strategy run tools"
  [python]="ar1"  # the installed API's headers only (api/include/ar1/)
)
bad=0
for folder in "${!allowed[@]}"; do
  while IFS=: read -r file line text; do
    top="${text#*\"}"
    top="${top%%/*}"
    if [[ " ${allowed[$folder]} " != *" $top "* ]]; then
      echo "$file:$line: $folder/ includes from $top/ ($text); allowed: ${allowed[$folder]}"
      bad=1
    fi
  done < <(grep -rnE '^#include "[A-Za-z0-9_]+/' "$folder" --include='*.h' --include='*.hpp' \
             --include='*.cpp' --include='*.cu' --include='*.cuh' || true)
done
((bad == 0)) && echo "include graph: ${!allowed[*]} within their layers"
exit "$bad"
