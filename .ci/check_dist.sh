#!/usr/bin/env bash
# Builds the sdist and the wheel (the wheel from the sdist, as pip would), checks that the
# sdist carries every tracked test, golden and docs file, then installs the wheel into a
# clean venv and runs the README's quickstart from a folder outside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
TORCH=${TORCH:-torch==2.13.0}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

"$PY" -m pip install -q 'build>=1.2'
"$PY" -m build --outdir "$scratch/dist" . >"$scratch/build.log" 2>&1 || {
    cat "$scratch/build.log"
    exit 1
}
sdist=$(ls "$scratch"/dist/*.tar.gz)
wheel=$(ls "$scratch"/dist/*.whl)
echo "built $(basename "$sdist") and $(basename "$wheel")"

# Every file the suite or the docs build reads must be in the sdist.
git ls-files tests docs conftest.py README.md LICENSE CHANGELOG.md mkdocs.yml pyproject.toml \
    >"$scratch/tracked"
"$PY" - "$sdist" "$scratch/tracked" <<'PYEOF'
import sys, tarfile
sdist, tracked = sys.argv[1], open(sys.argv[2]).read().split()
with tarfile.open(sdist) as archive:
    root = archive.getnames()[0].split("/")[0]
    names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
missing = sorted(set(tracked) - names)
if missing:
    sys.exit(f"sdist {root} lacks {len(missing)} tracked files: {missing[:10]}")
print(f"sdist {root} carries all {len(tracked)} tracked test, golden and docs files")
PYEOF

# A clean venv, outside the repository: torch first, then the wheel, then the quickstart.
python3 -m venv "$scratch/venv"
"$scratch/venv/bin/python" -m pip install -q "$TORCH" \
    ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
"$scratch/venv/bin/python" -m pip install -q "$wheel"
"$PY" - README.md >"$scratch/quickstart.py" <<'PYEOF'
import re, sys
print(re.findall(r"```python\n(.*?)```", open(sys.argv[1]).read(), re.S)[0])
PYEOF
cd "$scratch"
"$scratch/venv/bin/python" - <<'PYEOF'
import runpy, birnn
from importlib.metadata import version
assert "site-packages" in birnn.__file__, birnn.__file__
assert birnn.__version__ == version("birnn"), (birnn.__version__, version("birnn"))
runpy.run_path("quickstart.py")
print(f"wheel birnn {birnn.__version__} from {birnn.__file__}: quickstart ran")
PYEOF
