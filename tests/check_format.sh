#!/usr/bin/env bash
# Fails when any C file differs from what .clang-format makes of it.
cd "${MC_SRCDIR:?}" || exit 1
command -v clang-format >/dev/null || { echo "clang-format missing (scripts/setup-deps installs it)"; exit 77; }
bad=0
while IFS= read -r f; do
	if ! clang-format --style=file "$f" | cmp -s - "$f"; then
		echo "not clang-formatted: $f"
		bad=1
	fi
done < <(git ls-files '*.c' '*.h' 2>/dev/null; git ls-files --others --exclude-standard '*.c' '*.h' 2>/dev/null)
exit $bad
