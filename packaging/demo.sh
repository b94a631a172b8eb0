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

# Regenerated every time (about 3 s): deterministic for the seed, and always matches this build's generator.
rm -rf "$demo/study-tmp"
"$cli" phantom --demo --seed 2026 --out "$demo/study-tmp" >/dev/null
rm -rf "$demo/study" && mv "$demo/study-tmp" "$demo/study"
echo "demo: synthetic study in $demo/study (synthetic data; MedSeek is NOT for clinical use)"

if [[ -n "${DISPLAY:-}" && -z "${MEDSEEK_HEADLESS:-}" ]]; then
  exec "$gui" "$demo/study" --analyze   # opens the study and runs the analysis at once
fi

out="$demo/out"
rm -rf "$out" && mkdir -p "$out"
"$cli" info "$demo/study" > "$out/info.txt"
# The main job: analyse (model + Grad-CAM + findings + narrative) and write every report format.
"$cli" analyze "$demo/study" --cam "$out/heatmap.mha" > "$out/analysis.txt"
"$cli" analyze "$demo/study" --json > "$out/analysis.json"
"$cli" report "$demo/study" --out "$out/report" > "$out/report.txt"
cat "$out/analysis.txt"
echo
echo "demo: no display, ran the headless path. Output in $out:"
echo "  analysis.txt / analysis.json  (probability, Lung-RADS, Brock, findings, narrative)"
echo "  heatmap.mha                   (Grad-CAM on the CT grid; opens in 3D Slicer / ITK-SNAP)"
echo "  report/                       (report.pdf, sr.dcm, seg.dcm, pm.dcm, epdf.dcm, fhir.json)"
