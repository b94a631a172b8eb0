#!/usr/bin/env bash
# Runs MedSeek's main job on the bundled demo study: a generated, clearly positive synthetic case
# (deterministic: seed 2026). With a display it opens the workstation on it; without one it runs the
# headless path and says where the output went.
set -euo pipefail
build="${1:?usage: demo.sh BUILD_DIR}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
demo="$build/demo"
cli="$build/app/medseek-cli"
gui="$build/app/gui/medseek"

if [[ ! -f "$demo/study/truth.json" ]]; then
  "$cli" phantom --demo --seed 2026 --out "$demo/study-tmp" >/dev/null
  rm -rf "$demo/study" && mv "$demo/study-tmp" "$demo/study"
fi
echo "demo: synthetic study in $demo/study (synthetic data; MedSeek is NOT for clinical use)"

if [[ -n "${DISPLAY:-}" && -z "${MEDSEEK_HEADLESS:-}" ]]; then
  exec "$gui" "$demo/study"
fi

out="$demo/out"
mkdir -p "$out"
"$cli" info "$demo/study" | tee "$out/info.txt"
echo "demo: no display, ran the headless path; output in $out"
