#!/usr/bin/env bash
# check_layers.sh — the include rule of the layers (docs/layout.md):
#   base/                      includes only base/
#   engine/, probes/, output/  include only base/ and themselves
#                              (probes/ may include output/record.h, the
#                              record contract it fills)
#   cli/                       anything
# Quoted includes are read from every tracked or new .c/.h file of those
# folders; a violation names the file, the line and the rule.
cd "${MC_SRCDIR:?}" || exit 1
bad=0
allowed() { # FOLDER INCLUDED-PATH
	local from=$1 inc=$2 top=${2%%/*}
	[ "$inc" = "$top" ] && return 0 # a same-folder include ("x.h")
	case $top in
	base) return 0 ;;
	"$from") return 0 ;;
	esac
	[ "$from" = probes ] && [ "$inc" = output/record.h ] && return 0
	return 1
}
while IFS= read -r f; do
	from=${f%%/*}
	case $from in base | engine | probes | output) ;; *) continue ;; esac
	while IFS=: read -r line inc; do
		inc=${inc#*\"}
		inc=${inc%%\"*}
		if ! allowed "$from" "$inc"; then
			echo "$f:$line: $from/ must not include \"$inc\" (only base/ and $from/)"
			bad=1
		fi
	done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
done < <(git ls-files '*.c' '*.h' 2>/dev/null; git ls-files --others --exclude-standard '*.c' '*.h' 2>/dev/null)
[ "$bad" -eq 0 ] && echo "layers: every include follows the rule"
exit $bad
