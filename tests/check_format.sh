#!/usr/bin/env bash
# Every C++ file of the project is formatted as .clang-format says, by clang-format 14 (Debian
# bookworm's `clang-format`; tools/run installs it). Other versions format some constructs
# differently, so with another version the check says so and passes without judging.
#   tests/check_format.sh REPO_ROOT      check (ctest: test `format`)
#   tests/check_format.sh REPO_ROOT -i   reformat in place
set -uo pipefail
root=${1:?usage: check_format.sh REPO_ROOT [-i]}
cd "$root" || exit 2
want=14
tool=${AMF_CLANG_FORMAT:-clang-format}
command -v "$tool" >/dev/null || { echo "check_format: $tool not found (tools/run setup installs it)" >&2; exit 1; }
version=$("$tool" --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p')
if [ "$version" != "$want" ]; then
  echo "check_format: $tool is version ${version:-unknown}, not $want: formatting not checked"
  exit 0
fi
# The project's own sources (what git tracks, or every file when this is not a git checkout),
# generated and third-party code aside.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cc' '*.h')
else
  mapfile -t files < <(find amf config containers sim tools tests -name '*.cc' -o -name '*.h')
fi
if [ "${2:-}" = -i ]; then
  "$tool" -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  "$tool" --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "check_format: ${#bad[@]} file(s) not formatted as .clang-format says:"
  printf '  %s\n' "${bad[@]}"
  echo "fix: tests/check_format.sh . -i   (or clang-format -i FILE)"
  exit 1
fi
echo "check_format: ${#files[@]} files formatted"
