#!/usr/bin/env bash
# Regenerates every example report in this folder (run from the repository root):
#   bash reports/regenerate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mncost report v3-large --hw edgetpu --output-dir reports/v3-large-edgetpu --force
mncost report --sweep --alpha 0.5,0.75,1.0,1.25 --rho 0.75,1.0 --hw generic --output-dir reports/family-sweep --force
mncost report --ridge --models v1,v2,v3-large,v3-small,v4-conv-s,v4-conv-m,v4-hybrid-m --rp 0:500:5 --output-dir reports/ridge-sweep --force
