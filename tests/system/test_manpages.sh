#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The man pages in docs/man/ must describe what the programs actually have:
#   - every option `gnomond --help` prints appears (in bold) in gnomond.8;
#   - every command and option `gnomonctl --help` prints, and every command gnomonctl.c
#     compares against, appears in gnomonctl.8;
#   - every directive in the parser's table (src/core/cfg.c `directives[]`), every word of
#     its known-but-unimplemented lists and every restrict flag appears in gnomon.conf.5;
#   - groff renders each page without a warning (-ww).
# Needs groff (Debian: groff-base, in scripts/install-deps.sh TEST_PKGS).
set -euo pipefail
: "${GNOMOND:?GNOMOND must name the gnomond binary}"
: "${GNOMONCTL:?GNOMONCTL must name the gnomonctl binary}"
src=${GNOMON_SRCDIR:?}
man=$src/docs/man
cfg_c=$src/src/core/cfg.c
ctl_c=$src/src/ctl/gnomonctl.c

if ! command -v groff >/dev/null 2>&1; then
	if [ "${CI:-}" = true ]; then
		echo "FAIL: groff is not installed (scripts/install-deps.sh installs groff-base)"
		exit 1
	fi
	echo "SKIP: groff is not installed"
	exit 77
fi

fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Render a page as ASCII with overstriking kept (bold = c BACKSPACE c), one very long line
# length and no hyphenation, so no word is split.
render() {
	groff -man -Tascii -rLL=2000n -rHY=0 -P-c -P-u "$1" 2>/dev/null
}

# The overstruck (bold) form of a word, as grotty writes it.
bold() {
	local w=$1 out="" c i
	for ((i = 0; i < ${#w}; i++)); do
		c=${w:i:1}
		out+="$c"$'\b'"$c"
	done
	printf '%s' "$out"
}

# Does rendered page $1 hold word $2 in bold?
has_bold() {
	grep -qF -- "$(bold "$2")" "$1"
}

need() { # need PAGE-TEXT WORD WHAT
	if ! has_bold "$1" "$2"; then
		echo "FAIL: $3 '$2' is not documented (in bold) in $(basename "$1" .txt)"
		fail=1
	fi
}

for page in gnomond.8 gnomonctl.8 gnomon.conf.5; do
	f=$man/$page
	if [ ! -f "$f" ]; then
		echo "FAIL: $f is missing"
		fail=1
		continue
	fi
	# 1. groff must not warn (every warning category: -ww).
	warn=$(groff -man -Tutf8 -ww -z "$f" 2>&1 || true)
	if [ -n "$warn" ]; then
		echo "FAIL: groff warns about $page:"
		printf '%s\n' "$warn" | sed 's/^/  /'
		fail=1
	fi
	# mandoc's lint, where it is installed (it is not required).
	if command -v mandoc >/dev/null 2>&1; then
		lint=$(mandoc -man -Tlint -Werror "$f" 2>&1 || true)
		if [ -n "$lint" ]; then
			echo "FAIL: mandoc -Tlint reports errors in $page:"
			printf '%s\n' "$lint" | sed 's/^/  /'
			fail=1
		fi
	fi
	render "$f" > "$tmp/$page.txt"
	if [ ! -s "$tmp/$page.txt" ]; then
		echo "FAIL: $page renders to nothing"
		fail=1
	fi
done

# The check must be able to fail: a word that is nowhere must not be found.
if has_bold "$tmp/gnomond.8.txt" "--no-such-option-xyzzy"; then
	echo "FAIL: the bold search finds a word that is not there"
	fail=1
fi

# 2. gnomond: every option --help prints.
"$GNOMOND" --help > "$tmp/gnomond.help"
{
	grep -oE -- '--[a-z][a-z-]*' "$tmp/gnomond.help"
	grep -oE -- '(^|[^-[:alnum:]])-[[:alpha:]]([^[:alnum:]-]|$)' "$tmp/gnomond.help" |
		grep -oE -- '-[[:alpha:]]'
} | sort -u > "$tmp/gnomond.opts"
n=$(wc -l < "$tmp/gnomond.opts")
if [ "$n" -lt 15 ]; then
	echo "FAIL: found only $n options in 'gnomond --help' (the parsing here is broken?)"
	cat "$tmp/gnomond.help"
	fail=1
fi
while read -r opt; do
	need "$tmp/gnomond.8.txt" "$opt" "gnomond option"
done < "$tmp/gnomond.opts"

# 3. gnomonctl: commands from --help (the lines after "commands:") and from the source's
# comparisons, and the options --help prints.
"$GNOMONCTL" --help > "$tmp/gnomonctl.help"
{
	sed -n '/^commands:/,$p' "$tmp/gnomonctl.help" | awk 'NR > 1 && NF { print $1 }'
	grep -oE 'strcmp\(cmd, "[a-z]+"\)' "$ctl_c" | grep -oE '"[a-z]+"' | tr -d '"'
} | sort -u > "$tmp/gnomonctl.cmds"
n=$(wc -l < "$tmp/gnomonctl.cmds")
if [ "$n" -lt 3 ]; then
	echo "FAIL: found only $n gnomonctl commands (the parsing here is broken?)"
	fail=1
fi
while read -r cmd; do
	need "$tmp/gnomonctl.8.txt" "$cmd" "gnomonctl command"
done < "$tmp/gnomonctl.cmds"
{
	sed '/^commands:/,$d' "$tmp/gnomonctl.help" | grep -oE -- '--[a-z][a-z-]*'
	sed '/^commands:/,$d' "$tmp/gnomonctl.help" |
		grep -oE -- '(^|[^-[:alnum:]])-[[:alpha:]]([^[:alnum:]-]|$)' | grep -oE -- '-[[:alpha:]]'
	# options the source knows beyond what --help prints
	grep -oE '\{ "[a-z-]+", (no|required)_argument' "$ctl_c" | grep -oE '"[a-z-]+"' |
		tr -d '"' | sed 's/^/--/'
} | sort -u > "$tmp/gnomonctl.opts"
while read -r opt; do
	need "$tmp/gnomonctl.8.txt" "$opt" "gnomonctl option"
done < "$tmp/gnomonctl.opts"

# 4. gnomon.conf: the parser's vocabulary, read from src/core/cfg.c.
# table_words START: the quoted words of the C initialiser that starts at the line matching
# START, up to its closing "};".
table_words() {
	awk -v start="$1" 'index($0, start) { on = 1 } on { print } on && /};/ { exit }' "$cfg_c" |
		grep -oE '"[a-z0-9]+"' | tr -d '"'
}
table_words 'static const struct directive directives[]' > "$tmp/directives"
table_words 'static const char *const unimplemented[]' > "$tmp/unimplemented"
table_words 'static const char *const security_unimplemented[]' > "$tmp/security"
table_words 'static const struct flag_name res_flags[]' > "$tmp/resflags"
for list in directives unimplemented security resflags; do
	n=$(wc -l < "$tmp/$list")
	if [ "$n" -lt 2 ]; then
		echo "FAIL: found only $n words in cfg.c's $list table (did the table move?)"
		fail=1
	fi
done
if [ "$(wc -l < "$tmp/directives")" -lt 25 ]; then
	echo "FAIL: fewer than 25 directives found in cfg.c's table"
	fail=1
fi
while read -r w; do need "$tmp/gnomon.conf.5.txt" "$w" "directive"; done < "$tmp/directives"
while read -r w; do need "$tmp/gnomon.conf.5.txt" "$w" "known-but-unimplemented directive"; done < "$tmp/unimplemented"
while read -r w; do need "$tmp/gnomon.conf.5.txt" "$w" "refused directive"; done < "$tmp/security"
while read -r w; do need "$tmp/gnomon.conf.5.txt" "$w" "restrict flag"; done < "$tmp/resflags"

if [ "$fail" -ne 0 ]; then
	exit 1
fi
echo "OK: $(wc -l < "$tmp/gnomond.opts") gnomond options, $(wc -l < "$tmp/gnomonctl.cmds") gnomonctl commands, $(wc -l < "$tmp/directives") directives, $(wc -l < "$tmp/unimplemented") + $(wc -l < "$tmp/security") known-but-unimplemented words and $(wc -l < "$tmp/resflags") restrict flags documented; groff is silent"
