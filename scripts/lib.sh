# Shared by scripts/test and scripts/demo: install what is missing, build.
# Sourced, not run.

# Debian 12 packages the build and the tests need.
TAGWARDEN_PACKAGES=(
	gcc make autoconf automake pkg-config ca-certificates
	libcurl4-openssl-dev libjansson-dev libssl-dev libevent-dev
	libsqlite3-dev sqlite3 libexpat1-dev libseccomp-dev libcmocka-dev
	libpcre2-dev libinih-dev
	python3 python3-botocore python3-boto3 awscli groff-base
)

# Install only what dpkg does not already have, so a warm run costs ~0.1 s.
install_missing() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing Debian packages: ${missing[*]}; run as root or install them" >&2
		return 1
	fi
	echo "installing: ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

ensure_packages() {
	install_missing "${TAGWARDEN_PACKAGES[@]}"
}

# The MCP client tests need node and npm. Checked by command, not by dpkg:
# a machine may carry Node from another Debian source whose package also
# provides npm, and Debian's own npm package would conflict with it.
ensure_node() {
	if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
		return 0
	fi
	install_missing nodejs npm
}

ensure_packages_extra() {
	install_missing "$@"
}

# build_tree DIR [configure flags...]: out-of-tree build, reconfigured only
# when configure.ac or Makefile.am changed.
build_tree() {
	local dir=$1
	shift
	if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
		autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
	fi
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ] || [ configure -nt "$dir/config.status" ]; then
		(cd "$dir" && ../configure -q "$@")
	fi
	make -C "$dir" -s -j"$(nproc)"
}
