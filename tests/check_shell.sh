#!/usr/bin/env bash
# check_shell.sh — shellcheck (warnings and errors) over every shell script
# the repository tracks or adds: *.sh files and files whose first line
# names bash or sh. Sourced files are followed from the repository root.
cd "${MC_SRCDIR:?}" || exit 1
command -v shellcheck >/dev/null || { echo "shellcheck missing (scripts/setup-deps installs it)"; exit 77; }
files=()
while IFS= read -r f; do
	[ -f "$f" ] || continue
	case $f in
	*.sh) files+=("$f") ;;
	*) head -n 1 "$f" 2>/dev/null | grep -qE '^#!.*(bash|/sh)' && files+=("$f") ;;
	esac
done < <(git ls-files 2>/dev/null; git ls-files --others --exclude-standard 2>/dev/null)
if shellcheck -x -P . -S warning -f gcc "${files[@]}"; then
	echo "shellcheck: ${#files[@]} scripts clean"
else
	exit 1
fi
