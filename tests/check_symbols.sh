#!/bin/sh
# libpoold-client exports the functions client.h declares and nothing else:
# every dynamic symbol it defines starts with poold_, and every function
# the header declares is among them. The library is found in libtool's
# .libs directory of the build tree ($POOLD_CLIENT_LIB overrides).

lib=${POOLD_CLIENT_LIB:-clients/libpoold-client/.libs/libpoold-client.so}
header=${srcdir:-.}/include/poold/client.h

if ! command -v nm >/dev/null 2>&1; then
	echo "nm is not installed: skipped" >&2
	exit 77
fi
for f in "$lib" "$header"; do
	if ! test -f "$f"; then
		echo "$f: missing" >&2
		exit 99
	fi
done

# "ADDRESS TYPE NAME" lines; NAME may carry a version (@@NODE).
if ! out=$(nm -D --defined-only "$lib"); then
	echo "nm -D $lib failed" >&2
	exit 99
fi
exported=$(printf '%s\n' "$out" | awk 'NF >= 3 { sub(/@.*/, "", $3); print $3 }' |
	sort -u)
declared=$(sed -n -e '/^typedef/d' \
	-e 's/^[a-z][a-z_ ]*[ *]\(poold_[a-z_]*\)(.*/\1/p' "$header" | sort -u)

status=0
if test -z "$exported"; then
	echo "$lib exports nothing" >&2
	status=1
fi
stray=$(printf '%s\n' "$exported" | grep -v '^poold_')
if test -n "$stray"; then
	echo "exported without the poold_ prefix:" >&2
	printf '  %s\n' $stray >&2
	status=1
fi
missing=$(printf '%s\n' "$declared" | grep -vxF "$exported")
if test -n "$missing"; then
	echo "declared in client.h but not exported:" >&2
	printf '  %s\n' $missing >&2
	status=1
fi
extra=$(printf '%s\n' "$exported" | grep -vxF "$declared")
if test -n "$extra"; then
	echo "exported but not declared in client.h:" >&2
	printf '  %s\n' $extra >&2
	status=1
fi
echo "exported: $(printf '%s ' $exported)"
exit $status
